// The A2V flow with the client openapi-generator's `typescript-fetch` generator made from openapi.yaml.
// tsc --strict compiles it with the generated sources (the Video union narrows on `status`; an error
// body parses into its typed model and its code is compared with the generated enum constant); node runs
// it against a live mock and prints what it saw as JSON for tests/interop/test_typescript_fetch.py.
import {
  A2vApi,
  Configuration,
  Error400FromJSON,
  Error401FromJSON,
  Error404FromJSON,
  ErrorCode400,
  ErrorCode401,
  ErrorCode404,
  ResponseError,
  SystemApi,
  TaskErrorCode,
  type Video,
} from "./index";

declare const process: { argv: string[]; exitCode?: number };

const [basePath, audioUrl, token] = process.argv.slice(2);
const configuration = (headers: Record<string, string>, accessToken?: string) =>
  new Configuration({ basePath, accessToken, headers });
const api = new A2vApi(configuration({ Prefer: "duration=2" }, token));

function variant(video: Video): string {
  switch (video.status) {
    case "pending":
      return "VideoPending";
    case "in_progressing":
      return "VideoInProgress";
    case "finished": {
      const urls: [string, string] = [video.videoUrl, video.maskVideoUrl ?? ""]; // the mask is optional
      return urls.length === 2 ? "VideoFinished" : "none";
    }
    case "error":
      return "VideoFailed";
  }
}

async function poll(videoId: string): Promise<[string[], Video]> {
  const seen: string[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const video: Video = (await api.getVideo({ videoId })).data;
    const name = variant(video);
    if (seen[seen.length - 1] !== name) seen.push(name);
    if (video.status === "finished" || video.status === "error") return [seen, video];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${videoId} did not end within 60 s`);
}

/** [HTTP status, the typed model's code, whether it is the generated constant expected]. */
async function typed(call: Promise<unknown>, expected: number): Promise<unknown[]> {
  try {
    await call;
  } catch (err: unknown) {
    if (!(err instanceof ResponseError)) throw err;
    const body: unknown = await err.response.json();
    switch (err.response.status) {
      case 400: {
        const model = Error400FromJSON(body);
        const code: ErrorCode400 = model.code;
        return [400, code, code === expected, model.message];
      }
      case 401: {
        const code: ErrorCode401 = Error401FromJSON(body).code;
        return [401, code, code === expected];
      }
      case 404: {
        const code: ErrorCode404 = Error404FromJSON(body).code;
        return [404, code, code === expected];
      }
    }
    throw new Error(`unexpected status ${err.response.status}`);
  }
  throw new Error("the request succeeded");
}

async function main(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  out.ping = (await new SystemApi(configuration({})).ping()).data.pong;
  out.characters = (await api.listCharacters()).data.map((character) => character.modelId);

  const request = { modelId: "eva_a0008", audioUrl };
  const accepted = await api.generateVideo({ generateRequest: request });
  const [seen, last] = await poll(accepted.data.videoId);
  out.variants = seen;
  if (last.status === "finished") out.finished = [last.videoUrl, last.maskVideoUrl];

  const doomed = await new A2vApi(configuration({ Prefer: "outcome=error, error_code=10003" }, token)).generateVideo({
    generateRequest: request,
  });
  const [, ended] = await poll(doomed.data.videoId);
  if (ended.status === "error") {
    const code: TaskErrorCode | undefined = ended.error?.code; // the error object is optional
    out.failed = ["VideoFailed", code, code === TaskErrorCode.AUDIO_NOT_DECODABLE];
  }

  out.unknownModel = await typed(
    api.generateVideo({ generateRequest: { modelId: "eva_x9999", audioUrl } }),
    ErrorCode404.MODEL_NOT_FOUND,
  );
  // The client does not check requests against the patterns, so an ftp URL reaches the service.
  out.badUrl = await typed(
    api.generateVideo({ generateRequest: { modelId: "eva_a0008", audioUrl: "ftp://127.0.0.1/a.wav" } }),
    ErrorCode400.INVALID_PARAMETER,
  );
  out.unknownId = await typed(
    api.getVideo({ videoId: "00000000000000000000000000000000" }),
    ErrorCode404.VIDEO_NOT_FOUND,
  );
  out.noToken = await typed(
    new A2vApi(configuration({})).listCharacters(),
    ErrorCode401.UNAUTHORIZED,
  );
  return out;
}

main().then(
  (out) => console.log(JSON.stringify(out)),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
