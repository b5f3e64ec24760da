using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mesh.Fuzzing;
using Mesh.Node.Api;
using Mesh.Node.Tests.Cluster;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Xunit.Abstractions;

namespace Mesh.Node.Tests.Api;

/// <summary>
/// A real node with its control API on a loopback port takes a fixed-seed series of random
/// requests (<see cref="ApiRequests"/>). No request gets a 5xx; every 4xx carries an
/// <see cref="ApiError"/> with a non-empty error; the node keeps answering; and none of the
/// requests changes what the node holds: the manifest pushed before the run is there, unchanged,
/// with its one revision.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ApiFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Requests = 800;
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(30);

    private readonly TestMesh _mesh = new();

    [Fact]
    public async Task Random_requests_get_no_5xx_every_refusal_is_an_ApiError_and_the_node_state_does_not_change()
    {
        await using var api = await _mesh.StartWithApi("fuzz");
        var (node, http) = (api.Node, api.Http);
        http.Timeout = PerRequest;

        var before = new PushRequest([new ManifestFile("fuzz-base.yaml",
            $"manifest: {ApiRequests.Existing}\nresources:\n  - {{id: f, type: file, path: /fuzz, content: \"kept\\n\"}}\n")], "before the fuzz", "test");
        (await http.PostAsJsonAsync("v1/push", before, ApiJson.Options)).EnsureSuccessStatusCode();
        var indexBefore = await http.GetStringAsync("v1/manifests");
        var headBefore = await http.GetStringAsync($"v1/manifests/{ApiRequests.Existing}");

        var statuses = new SortedDictionary<int, int>();
        await FuzzCases.CheckAsync("control API", ApiRequests.Request, fixedSeed: 8080, Requests, PerRequest, async request =>
        {
            var status = await SendAndCheckAsync(http, request);
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
        }, r => r.ToString());
        output.WriteLine($"{FuzzCases.Count(Requests)} requests from seed {FuzzCases.Seed(8080)}; answers by status: {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}");

        // The node is alive and holds exactly what it held before.
        Assert.False(node.System.WhenTerminated.IsCompleted, "the node's actor system stopped");
        var members = await http.GetFromJsonAsync<MemberInfo[]>("v1/members", ApiJson.Options);
        Assert.Equal("up", Assert.Single(members!).Status);
        Assert.Equal(indexBefore, await http.GetStringAsync("v1/manifests"));
        Assert.Equal(headBefore, await http.GetStringAsync($"v1/manifests/{ApiRequests.Existing}"));
        Assert.Single(await node.Store.HistoryAsync(ApiRequests.Existing));
        // The run reached what it claims to: successes, and refusals of several kinds.
        Assert.Contains(200, statuses.Keys);
        Assert.True(statuses.Keys.Count(s => s is >= 400 and < 500) >= 4, $"only these statuses: {string.Join(", ", statuses.Keys)}");
    }

    /// <summary>Sends one request and checks the answer; returns its status.</summary>
    private static async Task<int> SendAndCheckAsync(HttpClient http, ApiRequest r)
    {
        using var message = new HttpRequestMessage(new HttpMethod(r.Method), r.PathAndQuery.TrimStart('/'));
        if (r.Body is not null)
        {
            message.Content = new ByteArrayContent(r.Body);
            if (r.ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", r.ContentType);
        }
        foreach (var (name, value) in r.Headers)
            if (!message.Headers.TryAddWithoutValidation(name, value)) message.Content?.Headers.TryAddWithoutValidation(name, value);

        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        var status = (int)response.StatusCode;
        if (status >= 500)
            throw new InvalidOperationException($"HTTP {status} for {r.Method} {r.PathAndQuery}: {await BodyAsync(response)}");
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            return status; // the live event stream: open, and left at that
        var body = await BodyAsync(response);
        if (status >= 400 && r.Method != "HEAD") // a HEAD answer has no body, by HTTP
        {
            ApiError? error = null;
            try
            {
                error = JsonSerializer.Deserialize<ApiError>(body, ApiJson.Options);
            }
            catch (JsonException)
            {
                // Reported below.
            }
            if (string.IsNullOrWhiteSpace(error?.Error))
                throw new InvalidOperationException($"HTTP {status} without an ApiError body (content-type {response.Content.Headers.ContentType}): '{body}'");
        }
        return status;
    }

    private static async Task<string> BodyAsync(HttpResponseMessage response)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 4000));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
