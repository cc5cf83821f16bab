"""Generate a video of a character speaking an audio: POST /v1/a2v/video.generate

Environment: A2V_TOKEN, A2V_MODEL_ID (e.g. eva_a0008), A2V_AUDIO_URL (a downloadable WAV or MP3),
A2V_BASE_URL (default https://api.a2v.example). Needs httpx (`pip install httpx`).
"""

import os
import sys

import httpx

base_url = os.environ.get("A2V_BASE_URL", "https://api.a2v.example")
token = os.environ["A2V_TOKEN"]

response = httpx.post(
    f"{base_url}/v1/a2v/video.generate",
    headers={"Authorization": f"Bearer {token}"},
    json={
        "model_id": os.environ["A2V_MODEL_ID"],
        "audio_url": os.environ["A2V_AUDIO_URL"],
    },
)
print(response.text)

# The envelope's "code" is 0 on success; anything else is an error.
if response.json()["code"] != 0:
    sys.exit(1)
