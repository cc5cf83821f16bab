// Generate a video of a character speaking an audio: POST /v1/a2v/video.generate
//
// Environment: A2V_TOKEN, A2V_MODEL_ID (e.g. eva_a0008), A2V_AUDIO_URL (a downloadable WAV or MP3),
// A2V_BASE_URL (default https://api.a2v.example).
// Run with `node video_generate.js` (Node 18+, built-in fetch, no dependencies).
const baseUrl = process.env.A2V_BASE_URL || "https://api.a2v.example";

async function main() {
  const response = await fetch(`${baseUrl}/v1/a2v/video.generate`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${process.env.A2V_TOKEN}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      model_id: process.env.A2V_MODEL_ID,
      audio_url: process.env.A2V_AUDIO_URL,
    }),
  });
  const body = await response.text();
  console.log(body);

  // The envelope's "code" is 0 on success; anything else is an error.
  if (JSON.parse(body).code !== 0) {
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
