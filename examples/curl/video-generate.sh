#!/bin/sh
# Generate a video of a character speaking an audio: POST /v1/a2v/video.generate
# Environment: A2V_TOKEN, A2V_MODEL_ID (e.g. eva_a0008), A2V_AUDIO_URL (a downloadable WAV or MP3),
# A2V_BASE_URL (default https://api.a2v.example).
set -eu
base_url="${A2V_BASE_URL:-https://api.a2v.example}"

body=$(curl --silent --show-error \
  --request POST \
  --header "Authorization: Bearer $A2V_TOKEN" \
  --header "Content-Type: application/json" \
  --data "{\"model_id\": \"$A2V_MODEL_ID\", \"audio_url\": \"$A2V_AUDIO_URL\"}" \
  "$base_url/v1/a2v/video.generate")

echo "$body"
# The envelope's "code" is 0 on success; anything else is an error.
echo "$body" | grep -q '"code" *: *0 *[,}]' || exit 1
