using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Mesh.Protocol.Api;

namespace Mesh.Cli;

/// <summary>
/// The CLI's only way into the mesh: the node's versioned control API. Turns transport and
/// API failures into <see cref="CliException"/>s that say what went wrong and where. A node
/// that answers 503 (busy: its store did not answer in time) is asked once more after
/// <see cref="BusyPause"/>, saying so on <c>notices</c>; a change that did land the first time
/// is answered "unchanged" the second, so a retried push never makes two revisions.
/// </summary>
public sealed class MeshClient : IDisposable
{
    /// <summary>How long the client waits before it asks a busy node (503) again.</summary>
    public static readonly TimeSpan BusyPause = TimeSpan.FromSeconds(2);

    private readonly HttpClient _http;
    private readonly string _api;
    private readonly TextWriter? _notices;

    /// <param name="notices">Where the client says that it retries (stderr); null: silently.</param>
    public MeshClient(string api, string? token = null, TextWriter? notices = null)
    {
        _api = api;
        _notices = notices;
        // A node whose host is down or cut off answers no SYN: say so after ConnectTimeout rather than
        // after the kernel's two minutes of retries. Answers themselves may take long (a --wait).
        var handler = new SocketsHttpHandler { ConnectTimeout = ConnectTimeout };
        _http = new HttpClient(handler) { BaseAddress = new Uri($"http://{api}/"), Timeout = Timeout.InfiniteTimeSpan };
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>How long the CLI tries to open a connection to the node before calling it unreachable.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    public string Api => _api;

    public Task<MemberInfo[]> MembersAsync(CancellationToken cancel) => GetAsync<MemberInfo[]>("v1/members", cancel);

    /// <summary>The members with their facts (<paramref name="facts"/>), only those <paramref name="target"/> (the --target text) selects.</summary>
    public Task<MemberInfo[]> MembersAsync(bool facts, string? target, CancellationToken cancel)
    {
        var query = new List<string>();
        if (facts) query.Add("facts=true");
        if (target is not null) query.Add($"target={Uri.EscapeDataString(target)}");
        return GetAsync<MemberInfo[]>("v1/members" + (query.Count == 0 ? "" : "?" + string.Join("&", query)), cancel);
    }

    /// <summary>Every member's facts as the node knows them, or one member's.</summary>
    public Task<NodeFactsInfo[]> FactsAsync(string? node, CancellationToken cancel) =>
        GetAsync<NodeFactsInfo[]>("v1/facts" + (node is null ? "" : $"?node={Uri.EscapeDataString(node)}"), cancel);

    public Task<ManifestSummary[]> ManifestsAsync(CancellationToken cancel) => GetAsync<ManifestSummary[]>("v1/manifests", cancel);

    /// <summary>
    /// The heads a push or a deletion is based on, read as the node will check them: from a
    /// majority of the members, or from its own replica with <c>--ack local</c>.
    /// </summary>
    public Task<ManifestSummary[]> BaseHeadsAsync(AckLevel level, CancellationToken cancel) =>
        GetAsync<ManifestSummary[]>(level == AckLevel.Local ? "v1/manifests" : "v1/manifests?consistency=majority", cancel);

    public Task<ManifestDetail> ManifestAsync(string name, string? revision, CancellationToken cancel) =>
        GetAsync<ManifestDetail>($"v1/manifests/{Uri.EscapeDataString(name)}" + (revision is null ? "" : $"?revision={Uri.EscapeDataString(revision)}"), cancel);

    public Task<Mesh.Protocol.Wire.AuditEntry[]> AuditAsync(string? node, DateTimeOffset? since, int limit, CancellationToken cancel)
    {
        var query = new List<string> { $"limit={limit}" };
        if (node is not null) query.Add($"node={Uri.EscapeDataString(node)}");
        if (since is { } t) query.Add($"since={Uri.EscapeDataString(t.ToString("O"))}");
        return GetAsync<Mesh.Protocol.Wire.AuditEntry[]>("v1/audit?" + string.Join("&", query), cancel);
    }

    public Task<HistoryEntry[]> HistoryAsync(string name, CancellationToken cancel) =>
        GetAsync<HistoryEntry[]>($"v1/manifests/{Uri.EscapeDataString(name)}/history", cancel);

    public async Task<PushResponse> RollbackAsync(string name, string to, string author, AckLevel ack, CancellationToken cancel)
    {
        using var response = await Send(() => _http.PostAsync(
            $"v1/manifests/{Uri.EscapeDataString(name)}/rollback?to={Uri.EscapeDataString(to)}&author={Uri.EscapeDataString(author)}&ack={AckFlag.Word(ack)}", null, cancel));
        return await Read<PushResponse>(response, cancel);
    }

    public async Task<PushResponse> DeleteAsync(string name, DeleteRequest request, CancellationToken cancel)
    {
        // A request message is sent once: a retry needs a new one.
        using var response = await Send(() => _http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"v1/manifests/{Uri.EscapeDataString(name)}")
        {
            Content = JsonContent.Create(request, CliJson.Info<DeleteRequest>()),
        }, cancel));
        return await Read<PushResponse>(response, cancel);
    }

    /// <param name="node">only the nodes this glob matches</param>
    /// <param name="states">only the rows in these states (<see cref="StatusFilter"/>)</param>
    public Task<StatusReport> StatusAsync(string? manifest, CancellationToken cancel, string? node = null, IEnumerable<string>? states = null)
    {
        var query = new List<string>();
        if (manifest is not null) query.Add("manifest=" + Uri.EscapeDataString(manifest));
        if (node is not null) query.Add("node=" + Uri.EscapeDataString(node));
        if (states is not null) query.Add("state=" + Uri.EscapeDataString(string.Join(",", states)));
        return GetAsync<StatusReport>(query.Count == 0 ? "v1/status" : "v1/status?" + string.Join("&", query), cancel);
    }

    public async Task<PushResponse> PushAsync(PushRequest request, CancellationToken cancel)
    {
        var body = Bounded(request);
        using var response = await Send(() => _http.PostAsync("v1/push", body, cancel));
        return await Read<PushResponse>(response, cancel);
    }

    public async Task<TaskView> PostTaskAsync(TaskRequest request, CancellationToken cancel)
    {
        // Not asked again on 503: a task posted twice would run twice.
        using var response = await Send(() => _http.PostAsync("v1/tasks", JsonContent.Create(request, CliJson.Info<TaskRequest>()), cancel), retryBusy: false);
        return await Read<TaskView>(response, cancel);
    }

    public Task<TaskView[]> TasksAsync(CancellationToken cancel) => GetAsync<TaskView[]>("v1/tasks", cancel);

    public Task<TaskView> TaskAsync(string id, CancellationToken cancel) => GetAsync<TaskView>($"v1/tasks/{Uri.EscapeDataString(id)}", cancel);

    public async Task<TaskView> CancelTaskAsync(string id, string author, CancellationToken cancel)
    {
        using var response = await Send(() => _http.PostAsync($"v1/tasks/{Uri.EscapeDataString(id)}/cancel?author={Uri.EscapeDataString(author)}", null, cancel));
        return await Read<TaskView>(response, cancel);
    }

    public Task<Mesh.Protocol.Tasks.TaskOutput> TaskOutputAsync(string id, string node, CancellationToken cancel) =>
        GetAsync<Mesh.Protocol.Tasks.TaskOutput>($"v1/tasks/{Uri.EscapeDataString(id)}/output?node={Uri.EscapeDataString(node)}", cancel);

    public Task<RolloutStatus[]> RolloutsAsync(CancellationToken cancel) => GetAsync<RolloutStatus[]>("v1/rollouts", cancel);

    public Task<RolloutStatus> RolloutAsync(string manifest, CancellationToken cancel) =>
        GetAsync<RolloutStatus>($"v1/rollouts/{Uri.EscapeDataString(manifest)}", cancel);

    /// <summary>pause, resume or abort a manifest's rollout, through this node.</summary>
    public async Task<RolloutControlResponse> ControlRolloutAsync(string manifest, string action, string author, CancellationToken cancel)
    {
        using var response = await Send(() => _http.PostAsync(
            $"v1/rollouts/{Uri.EscapeDataString(manifest)}/{Uri.EscapeDataString(action)}?author={Uri.EscapeDataString(author)}", null, cancel));
        return await Read<RolloutControlResponse>(response, cancel);
    }

    public async Task<PlanResponse> PlanAsync(PushRequest request, TimeSpan timeout, CancellationToken cancel)
    {
        var body = Bounded(request);
        using var response = await Send(() => _http.PostAsync($"v1/plan?timeoutSeconds={(int)Math.Ceiling(timeout.TotalSeconds)}", body, cancel));
        return await Read<PlanResponse>(response, cancel);
    }

    /// <summary>
    /// The push as the bytes to send, refused here when a node would refuse it for its size:
    /// a node cuts an oversized body off mid-upload, which a client can only see as a broken connection.
    /// </summary>
    private static ByteArrayContent Bounded(PushRequest request)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(request, CliJson.Info<PushRequest>());
        if (bytes.LongLength > ApiJson.MaxBodyBytes)
            throw new CliException(ExitCodes.Invalid,
                $"this push is too large: {bytes.LongLength / (1024.0 * 1024):0.#} MiB with its sources encoded, and a node accepts at most {ApiJson.MaxBodyBytes / (1024 * 1024)} MiB per request " +
                $"({string.Join(", ", request.Manifests.OrderByDescending(m => m.Attachments?.Values.Sum(a => (long)a.Length) ?? 0).Take(3).Select(m => m.File))}); " +
                "push fewer files at once, or ship large files as packages");
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    public async Task<Mesh.Protocol.Wire.ConvergeAccepted[]> ConvergeAsync(string? node, CancellationToken cancel)
    {
        var path = node is null ? "v1/converge" : $"v1/converge?node={Uri.EscapeDataString(node)}";
        using var response = await Send(() => _http.PostAsync(path, null, cancel));
        return await Read<Mesh.Protocol.Wire.ConvergeAccepted[]>(response, cancel);
    }

    /// <summary>
    /// Opens the live event stream. When this returns the node has registered the listener,
    /// so every event from then on is seen.
    /// </summary>
    public async Task<IAsyncEnumerable<MeshEvent>> EventsAsync(CancellationToken cancel)
    {
        var response = await Send(() => _http.GetAsync("v1/events", HttpCompletionOption.ResponseHeadersRead, cancel));
        if (!response.IsSuccessStatusCode) await Read<ApiError>(response, cancel);
        return ReadEvents(response, cancel);
    }

    private static async IAsyncEnumerable<MeshEvent> ReadEvents(HttpResponseMessage response, [EnumeratorCancellation] CancellationToken cancel)
    {
        using (response)
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel));
            while (await reader.ReadLineAsync(cancel) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                var e = JsonSerializer.Deserialize(line["data: ".Length..], CliJson.Info<MeshEvent>());
                if (e is not null) yield return e;
            }
        }
    }

    private async Task<T> GetAsync<T>(string path, CancellationToken cancel)
    {
        using var response = await Send(() => _http.GetAsync(path, cancel));
        return await Read<T>(response, cancel);
    }

    /// <param name="retryBusy">Ask once more after a 503: only for requests whose repetition does no harm (a push that landed is answered unchanged).</param>
    private async Task<HttpResponseMessage> Send(Func<Task<HttpResponseMessage>> send, bool retryBusy = true)
    {
        try
        {
            var response = await send();
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || !retryBusy) return response;
            var why = await ErrorText(response);
            response.Dispose();
            _notices?.WriteLine($"mesh: node busy (503): {why}; retrying once in {BusyPause.TotalSeconds:0}s");
            await Task.Delay(BusyPause);
            return await send();
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Unreachable,
                $"cannot reach the control API at {_api}: {e.Message} (is mesh-node running there? see --api)");
        }
        catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
        {
            throw new CliException(ExitCodes.Unreachable,
                $"cannot reach the control API at {_api}: no connection within {ConnectTimeout.TotalSeconds:0}s (host down or cut off? see --api)");
        }
    }

    private static async Task<string> ErrorText(HttpResponseMessage response)
    {
        try
        {
            return (await response.Content.ReadFromJsonAsync(CliJson.Info<ApiError>()))?.Error ?? $"{(int)response.StatusCode} {response.ReasonPhrase}";
        }
        catch (JsonException)
        {
            return $"{(int)response.StatusCode} {response.ReasonPhrase}";
        }
    }

    private static async Task<T> Read<T>(HttpResponseMessage response, CancellationToken cancel)
    {
        if (response.IsSuccessStatusCode)
            return await response.Content.ReadFromJsonAsync(CliJson.Info<T>(), cancel)
                ?? throw new CliException(ExitCodes.Failed, "the node sent an empty answer");

        ApiError? error = null;
        try
        {
            error = await response.Content.ReadFromJsonAsync(CliJson.Info<ApiError>(), cancel);
        }
        catch (JsonException)
        {
            // Not one of ours: fall through to the status line.
        }
        var code = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? ExitCodes.Denied
            : response.StatusCode == HttpStatusCode.Conflict ? ExitCodes.Conflict
            : response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge
            ? ExitCodes.Invalid
            : response.StatusCode == HttpStatusCode.NotFound ? ExitCodes.NotFound : ExitCodes.Failed;
        throw new CliException(code, error?.Error ?? $"{(int)response.StatusCode} {response.ReasonPhrase}", error?.Details);
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The process exit codes, the same for every command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The operation ran and did not succeed (a node failed to apply, a wait timed out).</summary>
    public const int Failed = 1;
    /// <summary>The input was refused (malformed manifest, bad flag).</summary>
    public const int Invalid = 2;
    /// <summary>The node's control API could not be reached.</summary>
    public const int Unreachable = 3;
    /// <summary>What was asked for does not exist.</summary>
    public const int NotFound = 4;
    /// <summary>The push was refused: the manifest changed since the pusher looked (use --force to override).</summary>
    public const int Conflict = 5;
    /// <summary>The node refused the request: its API needs a token (--token-file) and none or a wrong one was given.</summary>
    public const int Denied = 6;
    /// <summary>The node accepted the change but not the quorum --ack asked for (offline, not a member yet, peers silent): it will spread later.</summary>
    public const int NotReplicated = 7;
}

public sealed class CliException(int exitCode, string message, IReadOnlyList<Mesh.Protocol.Manifests.ManifestError>? details = null)
    : Exception(message)
{
    public int ExitCode { get; } = exitCode;
    public IReadOnlyList<Mesh.Protocol.Manifests.ManifestError>? Details { get; } = details;
}
