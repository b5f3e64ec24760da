using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Mesh.Fuzzing;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Tests.Api;

/// <summary>One HTTP request of the control API fuzz test.</summary>
public sealed record ApiRequest(string Method, string PathAndQuery, byte[]? Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers)
{
    public override string ToString()
    {
        var body = Body is null ? "(no body)" : Body.Length > 2000 ? $"{Body.Length} bytes: {Encoding.UTF8.GetString(Body, 0, 2000)}…" : Encoding.UTF8.GetString(Body);
        return $"{Method} {PathAndQuery} content-type={ContentType ?? "-"} headers=[{string.Join("; ", Headers.Select(h => $"{h.Name}: {h.Value}"))}] body={body}";
    }
}

/// <summary>
/// Random requests for the control API: methods, paths under /v1 and outside, query strings,
/// headers and bodies (push requests with bad manifests, wrong types, truncated or deep JSON,
/// random bytes). None of them may change the node's state: a manifest that parses is always
/// sent with a parent that is not its head, so the push is refused by compare-and-set.
/// </summary>
public static class ApiRequests
{
    /// <summary>The manifest the test pushes before the run; requests name it so they reach real data.</summary>
    public const string Existing = "fuzz-base";

    private static readonly Gen<string> AnyMethod = Gen.OneOf("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "FUZZ");

    // A path with "%00" is not here: Kestrel refuses such a request target itself, before any
    // application code runs, with an empty 400 that the API cannot turn into an ApiError.
    private static readonly Gen<string> Name = Gen.OneOf(Existing, Existing, "nope", "web", "a%20b", "..", "%2F", "%01", "ünïcode", "x%2Fy", new string('n', 300), "FUZZ-BASE", "fuzz-base.yaml", "%ZZ");
    private static readonly string[] QueryKeys = ["to", "from", "revision", "manifest", "node", "since", "limit", "timeoutSeconds", "author", "force", "x", ""];

    private static readonly Gen<string> QueryValue = Gen.OneOf(
        "", "abc", "-1", "0", "1", "3", "99999999999999999999", "2026-11-27", "2026-11-27T05:00:00Z", "not-a-date", Existing, "fuzz", "%00", "%ZZ",
        "%E2%82%AC", "a+b", "1795757090314.0@fuzz", "sha256", "zzzzzz", "@", new string('q', 500), "true", "1.5", "0x10");

    private static readonly Gen<string> Query = Gen.Select(Gen.OneOf(QueryKeys), QueryValue, (k, v) => k.Length == 0 ? v : $"{k}={v}")
        .List[0, 4].Select(parts => parts.Count == 0 ? "" : "?" + string.Join('&', parts));

    /// <summary>A path and the method its route takes (none for paths outside the API).</summary>
    private static readonly Gen<(string Method, string Path)> Route = Gen.Frequency(
        (4, Gen.Const(("POST", "/v1/push"))),
        (2, Gen.Const(("POST", "/v1/plan"))),
        (2, Name.Select(n => ("POST", $"/v1/manifests/{n}/rollback"))),
        (1, Gen.Const(("POST", "/v1/converge"))),
        (1, Gen.Const(("GET", "/v1/members"))),
        (1, Gen.Const(("GET", "/v1/manifests"))),
        (2, Name.Select(n => ("GET", $"/v1/manifests/{n}"))),
        (1, Name.Select(n => ("GET", $"/v1/manifests/{n}/history"))),
        (1, Name.Select(n => ("GET", $"/v1/manifests/{n}/diff"))),
        (1, Gen.Const(("GET", "/v1/audit"))),
        (1, Gen.Const(("GET", "/v1/status"))),
        (1, Gen.Const(("GET", "/v1/events"))),
        (2, Gen.Const(("POST", "/v1/tasks"))),
        (1, Gen.Const(("GET", "/v1/tasks"))),
        (1, Name.Select(n => ("GET", $"/v1/tasks/{n}"))),
        (1, Name.Select(n => ("POST", $"/v1/tasks/{n}/cancel"))),
        (1, Name.Select(n => ("GET", $"/v1/tasks/{n}/output"))),
        (2, Gen.OneOf("/", "/v1", "/v1/", "/v2/push", "/V1/MEMBERS", "/v1/members.json", "/favicon.ico", "//v1//members", "/v1/manifests/a/b/c/d",
            "/v1/%2e%2e/push", "/v1/push/", "/v1/push/x", "/v1/manifests/fuzz-base/history/x", "/metrics", "/v1/push.php", "/%01", "/v1/ünïcode",
            "/" + new string('a', 3000), "/v1/manifests/%41", "/v1/events/x", "/v1/converge/now").Select(p => ("GET", p))));

    /// <summary>Mostly the route's own method, so that requests reach the handlers; otherwise any.</summary>
    private static readonly Gen<(string Method, string Path)> MethodAndPath = Gen.Select(Route, Gen.Frequency((3, Gen.Const<string?>(() => null)), (1, AnyMethod.Select(m => (string?)m))),
        (route, other) => (other ?? route.Method, route.Path));

    // ---- bodies --------------------------------------------------------------------------------

    /// <summary>Any JSON value, nested a few levels.</summary>
    private static readonly Gen<JsonNode?> Json = Gen.Recursive<JsonNode?>((depth, self) => depth >= 3
        ? Gen.Frequency(
            (3, Gen.String[0, 20].Select(s => (JsonNode?)JsonValue.Create(s))),
            (2, Gen.Long.Select(l => (JsonNode?)JsonValue.Create(l))),
            (1, Gen.Double.Select(d => (JsonNode?)JsonValue.Create(double.IsFinite(d) ? d : 0))),
            (1, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))),
            (1, Gen.Const<JsonNode?>(() => null)))
        : Gen.Frequency(
            (5, self),
            (1, self.Array[0, 4].Select(a => (JsonNode?)new JsonArray(a.Select(n => n?.DeepClone()).ToArray()))),
            (1, Gen.Select(Gen.OneOf("manifests", "file", "text", "attachments", "parents", "force", "message", "author", "x"), self)
                .Array[0, 4].Select(p => (JsonNode?)new JsonObject(p.DistinctBy(kv => kv.Item1).Select(kv => KeyValuePair.Create(kv.Item1, kv.Item2?.DeepClone())))))));

    /// <summary>Manifest texts: mostly broken, some valid (those get a stale parent, below).</summary>
    private static readonly Gen<string> ManifestText = Gen.Frequency(
        (2, FuzzYaml.ManifestText),
        (5, FuzzYaml.PlausibleManifestText),
        (1, Gen.OneOf($"manifest: {Existing}\nresources:\n  - {{id: f, type: file, path: /fuzz, content: changed}}\n",
            "manifest: other\nresources: []\n", "", "manifest: [", "resources: 5\n")),
        (1, Gen.String[0, 100]));

    private static readonly Gen<JsonNode?> ManifestFile = Gen.Select(
        Gen.Frequency((15, Gen.OneOf("web.yaml", "a/b.yaml", "", "../x.yaml").Select(s => (JsonNode?)JsonValue.Create(s))), (1, Json)),
        Gen.Frequency((15, ManifestText.Select(s => (JsonNode?)JsonValue.Create(s))), (1, Json)),
        Gen.Frequency(
            (20, Gen.Const<JsonNode?>(() => null)),
            (1, Gen.Const<JsonNode?>(() => new JsonObject { ["data.txt"] = Convert.ToBase64String("hello"u8) })),
            (1, Gen.Const<JsonNode?>(() => new JsonObject { ["data.txt"] = null })),
            (1, Gen.Const<JsonNode?>(() => new JsonObject { ["data.txt"] = "not base64!" })),
            (1, Json)),
        Gen.Int[0, 19],
        (file, text, attachments, shape) => shape switch
        {
            0 => (JsonNode?)null,
            1 => new JsonObject { ["text"] = text },
            2 => new JsonObject { ["file"] = file },
            3 => new JsonArray(file, text),
            _ => new JsonObject { ["file"] = file, ["text"] = text, ["attachments"] = attachments },
        });

    private static readonly Gen<JsonNode?> Parents = Gen.Frequency(
        (12, Gen.Const<JsonNode?>(() => null)),
        (2, Gen.Const<JsonNode?>(() => new JsonObject { [Existing] = "1.0@nobody" })),
        (1, Gen.Const<JsonNode?>(() => new JsonObject { [Existing] = null })),
        (1, Gen.Const<JsonNode?>(() => new JsonObject { ["web"] = "" })),
        (1, Json));

    /// <summary>A push (or plan) request body, as a JSON tree: the right shape with odd contents, or not.</summary>
    private static readonly Gen<JsonNode?> PushTree = Gen.Select(
        Gen.Frequency(
            (15, Gen.Frequency((12, ManifestFile.Array[1]), (3, ManifestFile.Array[2, 3]), (1, ManifestFile.Array[0])).Select(a => (JsonNode?)new JsonArray(a))),
            (1, Json)),
        Gen.Frequency((15, Gen.OneOf("fuzz", "").Select(s => (JsonNode?)JsonValue.Create(s))), (1, Json)),
        Parents,
        Gen.Frequency((12, Gen.Const<JsonNode?>(() => null)), (3, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))), (1, Json)),
        Json,
        Gen.Int[0, 19],
        (manifests, message, parents, force, other, shape) => shape switch
        {
            0 => other,
            1 => new JsonArray(manifests),
            // "force": null is a wrong type (a bool is expected); left out, it is false.
            _ => force is null
                ? new JsonObject { ["manifests"] = manifests, ["message"] = message, ["author"] = message?.DeepClone(), ["parents"] = parents }
                : new JsonObject { ["manifests"] = manifests, ["message"] = message, ["author"] = message?.DeepClone(), ["parents"] = parents, ["force"] = force },
        });

    /// <summary>
    /// A manifest that parses must not become a revision: the body is rewritten so that every
    /// such manifest names a parent other than its head, and the push is never forced. And a
    /// dry run runs exec guards (unless, only_if) on this host: a manifest with one is not sent.
    /// </summary>
    private static JsonNode? Harmless(JsonNode? tree)
    {
        if (tree is not JsonObject push || push["manifests"] is not JsonArray files) return tree;
        var names = new List<string>();
        foreach (var f in files)
            if (f is JsonObject o && o["text"] is JsonValue v && v.TryGetValue<string>(out var text))
                try
                {
                    var manifest = ManifestParser.Parse(text, "check");
                    if (manifest.Resources.OfType<ExecResource>().Any(e => e.Unless is not null || e.OnlyIf is not null))
                        o["text"] = "manifest: guarded\nleft-out: a command that a dry run would run on this host\n";
                    else names.Add(manifest.Name);
                }
                catch (ManifestException)
                {
                    // Refused anyway.
                }
        if (names.Count == 0) return tree;
        var parents = new JsonObject();
        foreach (var name in names.Distinct()) parents[name] = "0.0@never";
        push["parents"] = parents;
        push["force"] = false;
        return push;
    }

    private static readonly Gen<byte[]> PushBody = Gen.Select(PushTree, Gen.Int[0, 19], Gen.Int[0, int.MaxValue], (tree, damage, at) =>
    {
        var bytes = Encoding.UTF8.GetBytes(Harmless(tree)?.ToJsonString(ApiJson.Options) ?? "null");
        return damage switch
        {
            0 => bytes[..(at % (bytes.Length + 1))],                                  // cut short
            1 => [.. bytes[..(at % (bytes.Length + 1))], 0xC3, 0x28],                // an invalid UTF-8 sequence
            2 => [0xEF, 0xBB, 0xBF, .. bytes],                                        // a byte-order mark
            3 => Encoding.UTF8.GetBytes(new string('[', 70 + at % 2000) + new string(']', 70 + at % 2000)), // deeper than the JSON reader allows
            _ => bytes,
        };
    });

    private static readonly Gen<byte[]?> Body = Gen.Frequency(
        (12, PushBody.Select(b => (byte[]?)b)),
        (1, Gen.Const<byte[]?>(() => null)),
        (1, Gen.Byte.Array[0, 200].Select(b => (byte[]?)b)),
        (1, Json.Select(j => (byte[]?)Encoding.UTF8.GetBytes(j?.ToJsonString() ?? "null"))),
        (1, Gen.Int[100_000, 1_000_000].Select(n => (byte[]?)Encoding.UTF8.GetBytes("{\"manifests\":[{\"file\":\"big.yaml\",\"text\":\"" + new string('x', n) + "\"}]}"))));

    private static readonly Gen<string?> ContentType = Gen.OneOf<string?>(
        "application/json", "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x", "application/octet-stream", "application/json; charset=latin1", "*/*", "garbage", null);

    private static readonly Gen<(string, string)> Header = Gen.Frequency(
        (2, Gen.OneOf(("Accept", "text/html"), ("Accept", "application/json"), ("Accept", "text/event-stream"), ("Accept-Encoding", "gzip, br"),
            ("Content-Encoding", "gzip"), ("Authorization", "Bearer nonsense"), ("Authorization", "Basic Zm9vOmJhcg=="),
            ("X-Forwarded-For", "10.0.0.1"), ("Connection", "close"), ("Cookie", "a=b"), ("Origin", "http://evil.example"),
            ("Range", "bytes=0-10"), ("If-None-Match", "*"), ("X-HTTP-Method-Override", "DELETE"))),
        (1, Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 20], Gen.String[Gen.Char[' ', '~'], 0, 200], (n, v) => ("X-Fuzz-" + n, v.Trim()))));

    public static readonly Gen<ApiRequest> Request = Gen.Select(MethodAndPath, Query, Body, ContentType, Header.Array[0, 4],
        (route, query, body, type, headers) => new ApiRequest(route.Method, route.Path + query, route.Method is "GET" or "HEAD" or "TRACE" ? null : body, type, headers));
}
