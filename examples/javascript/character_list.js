// List all characters: GET /v1/a2v/character.list
//
// Environment: A2V_TOKEN (your API key), A2V_BASE_URL (default https://api.a2v.example).
// Run with `node character_list.js` (Node 18+, built-in fetch, no dependencies).
const baseUrl = process.env.A2V_BASE_URL || "https://api.a2v.example";

async function main() {
  const response = await fetch(`${baseUrl}/v1/a2v/character.list`, {
    headers: { Authorization: `Bearer ${process.env.A2V_TOKEN}` },
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
