#!/bin/sh
# Get the state and result of a video task: GET /v1/a2v/video.get?video_id=...
# Environment: A2V_TOKEN, A2V_VIDEO_ID (from video.generate), A2V_BASE_URL (default https://api.a2v.example).
set -eu
base_url="${A2V_BASE_URL:-https://api.a2v.example}"

body=$(curl --silent --show-error --get \
  --header "Authorization: Bearer $A2V_TOKEN" \
  --data-urlencode "video_id=$A2V_VIDEO_ID" \
  "$base_url/v1/a2v/video.get")

echo "$body"
# The envelope's "code" is 0 on success; anything else is an error.
echo "$body" | grep -q '"code" *: *0 *[,}]' || exit 1
