// The A2V flow with openapi-fetch over the types openapi-typescript generated from openapi.yaml.
// tsc --strict compiles it (so every field the spec promises must be typed as present, and the Video
// union must narrow on `status`); node then runs it against a live mock and prints what it saw as JSON.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

declare const process: { argv: string[]; exitCode?: number };

type Schemas = components["schemas"];
type Video = Schemas["Video"];

const [baseUrl, audioUrl, token] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
const anonymous = createClient<paths>({ baseUrl });

// The union narrows on `status`: each branch sees only its own variant's fields, the required ones
// present (no `undefined` to check), so a missing `required` in the spec fails this compile; the
// optional ones (all but what the upstream documents) typed, and `undefined` when left out.
function variant(video: Video): string {
  switch (video.status) {
    case "pending": {
      const progress: 0 | undefined = video.progress;
      return `VideoPending:${progress}`;
    }
    case "in_progressing": {
      const progress: number | undefined = video.progress;
      return `VideoInProgress:${progress !== undefined && progress >= 1 && progress <= 99}`;
    }
    case "finished": {
      const url: string = video.video_url;
      const optional: [string | undefined, number | undefined, number | undefined] = [
        video.mask_video_url,
        video.url_expires_at,
        video.duration,
      ];
      return `VideoFinished:${[url, ...optional.filter((field) => field !== undefined)].length}`;
    }
    case "error": {
      const code: Schemas["TaskErrorCode"] | undefined = video.error?.code;
      return `VideoFailed:${code}`;
    }
  }
}

// A 404 body's code is one of the catalog's 404 rows, and nothing else.
// @ts-expect-error 1003 is a 400 code, not one of ErrorCode404's
const wrongPairing: Schemas["ErrorCode404"] = 1003;
void wrongPairing;

async function poll(videoId: string): Promise<Video[]> {
  const seen: Video[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { data, error } = await client.GET("/v1/a2v/video.get", { params: { query: { video_id: videoId } } });
    if (error !== undefined) throw new Error(`video.get answered ${JSON.stringify(error)}`);
    const video: Video = data.data;
    if (seen.length === 0 || seen[seen.length - 1].status !== video.status) seen.push(video);
    if (video.status === "finished" || video.status === "error") return seen;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${videoId} did not end within 60 s`);
}

async function download(url: string): Promise<string> {
  const response = await fetch(url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return `${response.status}:${new TextDecoder().decode(bytes.slice(4, 8))}`;
}

async function main(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};

  const ping = await anonymous.GET("/v1/ping");
  out.ping = ping.data?.data.pong;

  const characters = await client.GET("/v1/a2v/character.list");
  if (characters.data === undefined) throw new Error("character.list failed");
  out.characters = characters.data.data.map((character) => character.model_id);

  const accepted = await client.POST("/v1/a2v/video.generate", {
    body: { model_id: "eva_a0008", audio_url: audioUrl },
    headers: { Prefer: "duration=2" },
  });
  if (accepted.data === undefined) throw new Error(`generate failed: ${JSON.stringify(accepted.error)}`);
  const videoId: string = accepted.data.data.video_id;
  const seen = await poll(videoId);
  out.variants = seen.map(variant);
  const finished = seen[seen.length - 1];
  if (finished.status !== "finished") throw new Error(`task ended ${finished.status}`);
  if (finished.mask_video_url === undefined) throw new Error("the mock sends mask_video_url");
  out.downloads = [await download(finished.video_url), await download(finished.mask_video_url)];

  const doomed = await client.POST("/v1/a2v/video.generate", {
    body: { model_id: "eva_a0008", audio_url: audioUrl },
    headers: { Prefer: "outcome=error, error_code=10003" },
  });
  if (doomed.data === undefined) throw new Error("generate failed");
  const failed = await poll(doomed.data.data.video_id);
  out.failed = variant(failed[failed.length - 1]);

  const page = await client.GET("/v1/a2v/video.list", { params: { query: { page_size: 10 } } });
  if (page.data === undefined) throw new Error("video.list failed");
  out.listed = page.data.data.map((item) => [item.video_id, variant(item)]);

  const unknownModel = await client.POST("/v1/a2v/video.generate", {
    body: { model_id: "eva_x9999", audio_url: audioUrl },
  });
  out.unknownModel = [unknownModel.response.status, unknownModel.error?.code];

  const missing = await client.POST("/v1/a2v/video.generate", {
    // @ts-expect-error audio_url is required: the generated type refuses the body the test sends anyway
    body: { model_id: "eva_a0008" },
  });
  out.missingField = [missing.response.status, missing.error?.code, missing.error?.message];

  const unknownId = await client.GET("/v1/a2v/video.get", {
    params: { query: { video_id: "00000000000000000000000000000000" } },
  });
  out.unknownId = [unknownId.response.status, unknownId.error?.code];

  const noToken = await anonymous.GET("/v1/a2v/character.list");
  out.noToken = [noToken.response.status, noToken.error?.code];
  return out;
}

main().then(
  (out) => console.log(JSON.stringify(out)),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
