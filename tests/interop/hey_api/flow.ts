// The A2V flow with the SDK @hey-api/openapi-ts made from openapi.yaml (its default fetch client).
// tsc --strict compiles it with the generated sources: the Video union narrows on `status`, an error's
// `code` has the literal type of its status's catalog rows and its `data` is typed `null` (not `never`).
// node runs it against a live mock and prints what it saw as JSON for tests/interop/test_hey_api.py.
import { createClient } from "./client";
import { generateVideo, getVideo, listCharacters, ping } from "./sdk.gen";
import type { Error400, Error401, Error404, ErrorCode400, ErrorCode401, ErrorCode404, TaskErrorCode, Video } from "./types.gen";

declare const process: { argv: string[]; exitCode?: number };

const [baseUrl, audioUrl, token] = process.argv.slice(2);
const authed = createClient({ baseUrl, auth: token, headers: { Prefer: "duration=2" } });
const anonymous = createClient({ baseUrl });

function variant(video: Video): string {
  switch (video.status) {
    case "pending":
      return "VideoPending";
    case "in_progressing":
      return "VideoInProgress";
    case "finished": {
      const urls: [string, string] = [video.video_url, video.mask_video_url ?? ""]; // the mask is optional
      return urls.length === 2 ? "VideoFinished" : "none";
    }
    case "error":
      return "VideoFailed";
  }
}

// A 404 body's code is one of the catalog's 404 rows, and nothing else.
// @ts-expect-error 1003 is a 400 code, not one of ErrorCode404's
const wrongPairing: ErrorCode404 = 1003;
void wrongPairing;

async function poll(videoId: string): Promise<[string[], Video]> {
  const seen: string[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { data, error } = await getVideo({ client: authed, query: { video_id: videoId } });
    if (data === undefined) throw new Error(`video.get answered ${JSON.stringify(error)}`);
    const video: Video = data.data;
    const name = variant(video);
    if (seen[seen.length - 1] !== name) seen.push(name);
    if (video.status === "finished" || video.status === "error") return [seen, video];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${videoId} did not end within 60 s`);
}

// An error's `data` is `null` in the generated types (`never` would make any use of it unreachable).
type IsNever<T> = [T] extends [never] ? true : false;
const dataIsNull: [IsNever<Error400["data"]>, IsNever<Error401["data"]>, IsNever<Error404["data"]>] = [
  false,
  false,
  false,
];
void dataIsNull;

type Envelope = { code: number; message: string; data: null };

/** [HTTP status, the error's code, whether it is the one expected, its message when asked]. */
function typed<E extends Envelope>(
  answer: { error?: E; response?: Response },
  expected: E["code"],
  withMessage = false,
): unknown[] {
  const error = answer.error;
  if (error === undefined) throw new Error("the request succeeded");
  const data: null = error.data;
  const row = [answer.response?.status, error.code, error.code === expected && data === null];
  return withMessage ? [...row, error.message] : row;
}

async function main(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const pong = await ping({ client: anonymous });
  out.ping = pong.data?.data.pong;
  const characters = await listCharacters({ client: authed });
  if (characters.data === undefined) throw new Error("character.list failed");
  out.characters = characters.data.data.map((character) => character.model_id);

  const body = { model_id: "eva_a0008", audio_url: audioUrl };
  const accepted = await generateVideo({ client: authed, body });
  if (accepted.data === undefined) throw new Error(`generate failed: ${JSON.stringify(accepted.error)}`);
  const [seen, last] = await poll(accepted.data.data.video_id);
  out.variants = seen;
  if (last.status === "finished") out.finished = [last.video_url, last.mask_video_url];

  const doomed = await generateVideo({
    client: authed,
    body,
    headers: { Prefer: "outcome=error, error_code=10003" },
  });
  if (doomed.data === undefined) throw new Error("generate failed");
  const [, ended] = await poll(doomed.data.data.video_id);
  if (ended.status === "error") {
    const code: TaskErrorCode | undefined = ended.error?.code; // the error object is optional
    out.failed = ["VideoFailed", code, code === 10003];
  }

  const unknownModel = await generateVideo({ client: authed, body: { ...body, model_id: "eva_x9999" } });
  out.unknownModel = typed(unknownModel, 20001 satisfies ErrorCode404);
  // The client does not check requests against the patterns, so an ftp URL reaches the service.
  const badUrl = await generateVideo({ client: authed, body: { ...body, audio_url: "ftp://127.0.0.1/a.wav" } });
  out.badUrl = typed(badUrl, 1003 satisfies ErrorCode400, true);
  const unknownId = await getVideo({ client: authed, query: { video_id: "00000000000000000000000000000000" } });
  out.unknownId = typed(unknownId, 20002 satisfies ErrorCode404);
  const noToken = await listCharacters({ client: anonymous });
  out.noToken = typed(noToken, 1001 satisfies ErrorCode401);
  return out;
}

main().then(
  (out) => console.log(JSON.stringify(out)),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
