// The A2V flow with the Zodios client openapi-zod-client made from openapi.yaml. tsc --strict compiles it
// with the generated client: every answer is validated at run time by the generated zod schemas (the
// Video `discriminatedUnion` on `status`), and each error is the typed schema of its status in the
// endpoint's `errors` (`isErrorFromAlias`). node runs it against a live mock and prints what it saw as
// JSON for tests/interop/test_zod.py.
import { isErrorFromAlias } from "@zodios/core";
import type { z } from "zod";
import { createApiClient, schemas } from "./client";

declare const process: { argv: string[]; exitCode?: number };

type Video = z.infer<typeof schemas.Video>;

const [baseUrl, audioUrl, token] = process.argv.slice(2);
const authorization = { Authorization: `Bearer ${token}` };
const api = createApiClient(baseUrl);
// Request validation off for the one request the service must refuse; answers are still validated.
const unchecked = createApiClient(baseUrl, { validate: "response" });

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

async function poll(videoId: string): Promise<[string[], Video]> {
  const seen: string[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const video = (await api.getVideo({ queries: { video_id: videoId }, headers: authorization })).data;
    const name = variant(video);
    if (seen[seen.length - 1] !== name) seen.push(name);
    if (video.status === "finished" || video.status === "error") return [seen, video];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${videoId} did not end within 60 s`);
}

async function refused(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (err: unknown) {
    return err;
  }
  throw new Error("the request succeeded");
}

async function main(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  out.ping = (await api.ping()).data.pong;
  out.characters = (await api.listCharacters({ headers: authorization })).data.map((c) => c.model_id);

  const body = { model_id: "eva_a0008", audio_url: audioUrl };
  const accepted = await api.generateVideo(body, { headers: { ...authorization, Prefer: "duration=2" } });
  const [seen, last] = await poll(accepted.data.video_id);
  out.variants = seen;
  if (last.status === "finished") out.finished = [last.video_url, last.mask_video_url];

  const doomed = await api.generateVideo(body, {
    headers: { ...authorization, Prefer: "outcome=error, error_code=10003" },
  });
  const [, ended] = await poll(doomed.data.video_id);
  if (ended.status === "error") {
    const code: z.infer<typeof schemas.TaskErrorCode> | undefined = ended.error?.code; // optional
    out.failed = ["VideoFailed", code, code === 10003];
  }

  const unknownModel = await refused(
    api.generateVideo({ ...body, model_id: "eva_x9999" }, { headers: authorization }),
  );
  if (isErrorFromAlias(api.api, "generateVideo", unknownModel) && unknownModel.response.status === 404) {
    const error = schemas.Error404.parse(unknownModel.response.data);
    out.unknownModel = [404, error.code, error.code === 20001];
  }
  // The zod check of the request is off for this call, so an ftp URL reaches the service.
  const badUrl = await refused(
    unchecked.generateVideo({ ...body, audio_url: "ftp://127.0.0.1/a.wav" }, { headers: authorization }),
  );
  if (isErrorFromAlias(api.api, "generateVideo", badUrl) && badUrl.response.status === 400) {
    const error = schemas.Error400.parse(badUrl.response.data);
    out.badUrl = [400, error.code, error.code === 1003, error.message];
  }
  const unknownId = await refused(
    api.getVideo({ queries: { video_id: "00000000000000000000000000000000" }, headers: authorization }),
  );
  if (isErrorFromAlias(api.api, "getVideo", unknownId) && unknownId.response.status === 404) {
    const error = schemas.Error404.parse(unknownId.response.data);
    out.unknownId = [404, error.code, error.code === 20002];
  }
  const noToken = await refused(api.listCharacters());
  if (isErrorFromAlias(api.api, "listCharacters", noToken) && noToken.response.status === 401) {
    const error = schemas.Error401.parse(noToken.response.data);
    out.noToken = [401, error.code, error.code === 1001];
  }
  return out;
}

main().then(
  (out) => console.log(JSON.stringify(out)),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
