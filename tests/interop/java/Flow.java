// The A2V flow with the client openapi-generator's `java` generator (library `native`: Java's own
// HttpClient, Jackson) made from openapi.yaml. javac compiles it with the generated sources; it lists
// characters, generates a video, polls video.get until the task ends (each answer is deserialized into a
// variant of the Video oneOf), has a task fail, and reads the typed error of four bad requests. It prints
// what it saw as JSON for tests/interop/test_java.py.
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openapitools.client.ApiClient;
import org.openapitools.client.ApiException;
import org.openapitools.client.api.A2vApi;
import org.openapitools.client.api.SystemApi;
import org.openapitools.client.model.Character;
import org.openapitools.client.model.Error400;
import org.openapitools.client.model.Error401;
import org.openapitools.client.model.Error404;
import org.openapitools.client.model.ErrorCode400;
import org.openapitools.client.model.ErrorCode401;
import org.openapitools.client.model.ErrorCode404;
import org.openapitools.client.model.GenerateRequest;
import org.openapitools.client.model.TaskErrorCode;
import org.openapitools.client.model.Video;
import org.openapitools.client.model.VideoFailed;
import org.openapitools.client.model.VideoFinished;
import org.openapitools.client.model.VideoInProgress;
import org.openapitools.client.model.VideoPending;

public class Flow {
  interface Call {
    void run() throws ApiException;
  }

  static ApiClient client(String baseUrl, String token, String prefer) {
    ApiClient client = new ApiClient();
    // Java's default HttpClient, as the generated client makes it: it offers an `Upgrade: h2c` on every
    // plain-http request, which the mock answers as HTTP/1.1 with the body read (issue 19).
    client.updateBaseUri(baseUrl);
    client.setRequestInterceptor(
        builder -> {
          if (token != null) builder.header("Authorization", "Bearer " + token);
          if (prefer != null) builder.header("Prefer", prefer);
        });
    return client;
  }

  static String variant(Video video) {
    Object instance = video.getActualInstance();
    if (instance instanceof VideoPending) return "VideoPending";
    if (instance instanceof VideoInProgress) return "VideoInProgress";
    if (instance instanceof VideoFinished) return "VideoFinished";
    if (instance instanceof VideoFailed) return "VideoFailed";
    return "none";
  }

  static Video poll(A2vApi api, String videoId, List<String> seen) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      Video video = api.getVideo(videoId).getData();
      String name = variant(video);
      if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(name)) seen.add(name);
      if (name.equals("VideoFinished") || name.equals("VideoFailed")) return video;
      Thread.sleep(100);
    }
    throw new IllegalStateException("task " + videoId + " did not end within 60 s");
  }

  /** [HTTP status, the typed model's code, whether it is the generated constant expected]. */
  static List<Object> typed(ObjectMapper mapper, Call call, Object expected) throws Exception {
    try {
      call.run();
    } catch (ApiException err) {
      String body = err.getResponseBody();
      switch (err.getCode()) {
        case 400:
          Error400 bad = mapper.readValue(body, Error400.class);
          ErrorCode400 code400 = bad.getCode();
          return List.of(400, code400.getValue(), code400 == expected, bad.getMessage());
        case 401:
          ErrorCode401 code401 = mapper.readValue(body, Error401.class).getCode();
          return List.of(401, code401.getValue(), code401 == expected);
        case 404:
          ErrorCode404 code404 = mapper.readValue(body, Error404.class).getCode();
          return List.of(404, code404.getValue(), code404 == expected);
        default:
          throw new IllegalStateException("unexpected status " + err.getCode() + ": " + body);
      }
    }
    throw new IllegalStateException("the request succeeded");
  }

  public static void main(String[] args) throws Exception {
    String baseUrl = args[0], audioUrl = args[1], token = args[2];
    A2vApi api = new A2vApi(client(baseUrl, token, "duration=2"));
    ObjectMapper mapper = new ApiClient().getObjectMapper();
    Map<String, Object> out = new LinkedHashMap<>();

    out.put("ping", new SystemApi(client(baseUrl, null, null)).ping().getData().getPong());
    List<String> ids = new ArrayList<>();
    for (Character character : api.listCharacters().getData()) ids.add(character.getModelId());
    out.put("characters", ids);

    GenerateRequest request = new GenerateRequest().modelId("eva_a0008").audioUrl(audioUrl);
    List<String> seen = new ArrayList<>();
    Video last = poll(api, api.generateVideo(request, null).getData().getVideoId(), seen);
    out.put("variants", seen);
    if (last.getActualInstance() instanceof VideoFinished) {
      VideoFinished finished = last.getVideoFinished();
      out.put("finished", List.of(finished.getVideoUrl(), finished.getMaskVideoUrl()));
    }

    A2vApi doomed = new A2vApi(client(baseUrl, token, "outcome=error, error_code=10003"));
    Video ended = poll(api, doomed.generateVideo(request, null).getData().getVideoId(), new ArrayList<>());
    if (ended.getActualInstance() instanceof VideoFailed) {
      TaskErrorCode code = ended.getVideoFailed().getError().getCode();
      out.put("failed", List.of("VideoFailed", code.getValue(), code == TaskErrorCode.AUDIO_NOT_DECODABLE));
    }

    GenerateRequest unknownModel = new GenerateRequest().modelId("eva_x9999").audioUrl(audioUrl);
    out.put(
        "unknownModel",
        typed(mapper, () -> api.generateVideo(unknownModel, null), ErrorCode404.MODEL_NOT_FOUND));
    // The client does not check requests against the patterns, so an ftp URL reaches the service.
    GenerateRequest badUrl = new GenerateRequest().modelId("eva_a0008").audioUrl("ftp://127.0.0.1/a.wav");
    out.put("badUrl", typed(mapper, () -> api.generateVideo(badUrl, null), ErrorCode400.INVALID_PARAMETER));
    out.put(
        "unknownId",
        typed(mapper, () -> api.getVideo("00000000000000000000000000000000"), ErrorCode404.VIDEO_NOT_FOUND));
    A2vApi anonymous = new A2vApi(client(baseUrl, null, null));
    out.put("noToken", typed(mapper, anonymous::listCharacters, ErrorCode401.UNAUTHORIZED));
    System.out.println(mapper.writeValueAsString(out));
  }
}
