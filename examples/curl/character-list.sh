#!/bin/sh
# List all characters: GET /v1/a2v/character.list
# Environment: A2V_TOKEN (your API key), A2V_BASE_URL (default https://api.a2v.example).
set -eu
base_url="${A2V_BASE_URL:-https://api.a2v.example}"

body=$(curl --silent --show-error \
  --header "Authorization: Bearer $A2V_TOKEN" \
  "$base_url/v1/a2v/character.list")

echo "$body"
# The envelope's "code" is 0 on success; anything else is an error.
echo "$body" | grep -q '"code" *: *0 *[,}]' || exit 1
