"""List all characters: GET /v1/a2v/character.list

Environment: A2V_TOKEN (your API key), A2V_BASE_URL (default https://api.a2v.example).
Needs httpx (`pip install httpx`).
"""

import os
import sys

import httpx

base_url = os.environ.get("A2V_BASE_URL", "https://api.a2v.example")
token = os.environ["A2V_TOKEN"]

response = httpx.get(
    f"{base_url}/v1/a2v/character.list",
    headers={"Authorization": f"Bearer {token}"},
)
print(response.text)

# The envelope's "code" is 0 on success; anything else is an error.
if response.json()["code"] != 0:
    sys.exit(1)
