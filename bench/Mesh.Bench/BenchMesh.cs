using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Mesh.EndToEnd.Tests;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Bench;

/// <summary>
/// A mesh of real <c>mesh-node</c> processes, one per node, in a work directory of its own: on
/// loopback, or each in a network namespace of its own with its own address (a
/// <see cref="TestNetwork"/>, as hosts on one LAN). Node 0 seeds the mesh; the others join it.
/// Disposing kills every process (and removes the namespaces).
/// </summary>
public sealed class BenchMesh : IAsyncDisposable
{
    private static readonly TimeSpan DefaultFormTimeout = TimeSpan.FromSeconds(90);

    private readonly NodeGroup _nodes;
    private TestNetwork? _network;
    // A push answers within three steps of mesh.push.ack-timeout (20 s each) even when its quorum is that slow.
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(90) };

    public string WorkDir => _nodes.WorkDir;
    public string? ConfigFile { get; }
    public IReadOnlyList<NodeProcess> Nodes => _nodes.Nodes;
    /// <summary>How long it took from starting the first process until every node saw every node up.</summary>
    public TimeSpan FormTime { get; private set; }

    private BenchMesh(string workDir, string? configFile)
    {
        _nodes = NodeGroup.In(workDir);
        ConfigFile = configFile;
    }

    /// <summary>
    /// Starts <paramref name="count"/> nodes named <c>n00</c>, <c>n01</c>, … and waits until each
    /// sees all of them up. <paramref name="hocon"/>, when given, goes to every node as <c>--config</c>.
    /// </summary>
    /// <param name="hosts">when given, a network namespace per node: this many hosts (at least
    /// <paramref name="count"/>; the rest for nodes started later with <see cref="StartNodeAsync"/>)</param>
    /// <param name="formTimeout">how long the mesh may take to form (default 90 s)</param>
    public static async Task<BenchMesh> StartAsync(string workDir, int count, string? hocon, CancellationToken cancel, int? hosts = null,
        TimeSpan? formTimeout = null)
    {
        Directory.CreateDirectory(workDir);
        if (ExtraHocon is not null) hocon = (hocon ?? "") + ExtraHocon + "\n";
        string? config = null;
        if (hocon is not null)
        {
            config = Path.Combine(workDir, "bench.hocon");
            await File.WriteAllTextAsync(config, hocon, cancel);
        }
        var mesh = new BenchMesh(workDir, config);
        try
        {
            if (hosts is { } h) mesh._network = TestNetwork.Create(Enumerable.Range(0, Math.Max(h, count)).Select(NodeName).ToArray());
            var clock = Stopwatch.StartNew();
            var seed = await mesh.StartNodeAsync(NodeName(0), seed: null);
            // The others join in parallel, a few at a time: on a small machine a burst of
            // starting runtimes competes for the cores.
            using var gate = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount));
            await Task.WhenAll(Enumerable.Range(1, count - 1).Select(async i =>
            {
                await gate.WaitAsync(cancel);
                try
                {
                    await mesh.StartNodeAsync(NodeName(i), seed.ClusterAddress);
                }
                finally
                {
                    gate.Release();
                }
            }));
            // The seed first (one request a look), then every node: a hundred nodes asked every
            // 50 ms would spend the machine's CPU on answering instead of joining.
            var timeout = formTimeout ?? DefaultFormTimeout;
            await Until(async () => (await seed.MembersAsync()).Count(m => m.Status == "up") == count, $"{seed.Name} sees {count} nodes up", timeout, cancel);
            await Until(async () => (await Task.WhenAll(mesh.Nodes.Select(n => n.MembersAsync())))
                .All(members => members.Count(m => m.Status == "up") == count), $"{count} nodes see each other up", timeout - clock.Elapsed, cancel);
            mesh.FormTime = clock.Elapsed;
            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
    }

    public static string NodeName(int i) => $"n{i:00}";

    /// <summary>The network namespaces the nodes run in, or null on loopback.</summary>
    public TestNetwork? Network => _network;

    /// <summary>Configuration laid over every node of every mesh (<c>--node-config</c>), e.g. a setting under evaluation.</summary>
    public static string? ExtraHocon { get; set; }

    /// <summary>
    /// Starts one more node (with the mesh's config file) and keeps it until disposal; in the
    /// mesh's network, on the host of its name, seeded by <paramref name="seed"/>'s host.
    /// </summary>
    public Task<NodeProcess> StartNodeAsync(string name, string? seed, bool waitUntilUp = true)
    {
        var extra = ConfigFile is null ? null : new[] { "--config", ConfigFile };
        if (_network is null) return _nodes.StartAsync(name, seed: seed, extraArgs: extra, waitUntilUp: waitUntilUp);
        var host = _network[name];
        // The seed as its cluster address (akka.tcp://mesh@HOST:PORT) or HOST:PORT: the node takes HOST:PORT.
        var seeds = seed is null ? [$"{host.Address}:4710"] : new[] { seed[(seed.LastIndexOf('@') + 1)..] };
        return _nodes.StartInNamespaceAsync(name, host.Namespace, host.Address, seeds, extra, waitUntilUp);
    }

    /// <summary>
    /// Starts an attached host (<c>mesh-node --attach</c>, loopback only) and keeps it until
    /// disposal; returns once it is attached. The mesh's config file is for its members, not for it.
    /// </summary>
    public Task<NodeProcess> StartAttachedAsync(string name, IEnumerable<string> contacts, string[] roles) =>
        _nodes.StartAttachedAsync(name, contacts, roles);

    /// <summary>A request to a node's control API, with its token when the node wrote one (an API off loopback needs it).</summary>
    public static HttpRequestMessage Request(HttpMethod method, NodeProcess node, string path)
    {
        var request = new HttpRequestMessage(method, $"http://{node.Api}/{path}");
        if (File.Exists(node.TokenFile) && File.ReadAllText(node.TokenFile).Trim() is { Length: > 0 } token)
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>Kills one node now and forgets it.</summary>
    public Task RemoveAsync(NodeProcess node) => _nodes.RemoveAsync(node);

    public async Task<PushResponse> PushAsync(NodeProcess via, string fileName, string yaml, string message, CancellationToken cancel, AckLevel? ack = null)
    {
        var request = new PushRequest([new ManifestFile(fileName, yaml)], message, "mesh-bench", Ack: ack);
        using var post = Request(HttpMethod.Post, via, "v1/push");
        post.Content = JsonContent.Create(request, options: ApiJson.Options);
        using var response = await _http.SendAsync(post, cancel);
        var body = await response.Content.ReadAsStringAsync(cancel);
        if (!response.IsSuccessStatusCode)
        {
            // What the node logged around the refusal (its last warnings and errors).
            var recent = via.Log.Split('\n').Where(IsWarning).TakeLast(8);
            throw new PushRefusedException($"push to {via.Name} refused ({(int)response.StatusCode}): {body}", string.Join("\n", recent));
        }
        return JsonSerializer.Deserialize<PushResponse>(body, ApiJson.Options)!;
    }

    /// <summary>
    /// Follows <c>GET /v1/events</c> on one node, as <c>mesh push --wait</c> does: every node's
    /// reports reach it (report topic, then the replicated status map). A report carries the time
    /// its own node stamped when the apply finished, so the relay does not enter the measurement.
    /// Returns once the stream is open: the API flushes the headers after it subscribed the listener.
    /// </summary>
    public async Task<ReportFeed> FollowReportsAsync(NodeProcess via, CancellationToken cancel) =>
        await ReportFeed.StartAsync([via], cancel);

    /// <summary>Lines of the nodes' output at warning level or above, counted and de-duplicated (timestamps cut off).</summary>
    public IReadOnlyList<(string Line, int Count)> Warnings() => CollectWarnings(Nodes);

    /// <summary>
    /// Warning and error lines of the given nodes' output, with addresses, ids and numbers
    /// masked so that the same complaint about different peers counts as one line; each line
    /// is followed by the nodes that logged it.
    /// </summary>
    public static IReadOnlyList<(string Line, int Count)> CollectWarnings(IEnumerable<NodeProcess> nodes)
    {
        var counts = new Dictionary<string, (int Count, SortedSet<string> Nodes)>(StringComparer.Ordinal);
        foreach (var node in nodes)
            foreach (var raw in node.Log.Split('\n'))
            {
                var line = raw.TrimEnd();
                if (!IsWarning(line)) continue;
                var key = Normalize(line);
                if (!counts.TryGetValue(key, out var entry)) counts[key] = entry = (0, new SortedSet<string>(StringComparer.Ordinal));
                entry.Nodes.Add(node.Name);
                counts[key] = (entry.Count + 1, entry.Nodes);
            }
        return counts.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => ($"`{kv.Key}` (on {string.Join(",", kv.Value.Nodes)})", kv.Value.Count)).ToArray();
    }

    private static bool IsWarning(string line) =>
        line.Contains("[WARNING]", StringComparison.Ordinal) || line.Contains("[ERROR]", StringComparison.Ordinal)
        || line.StartsWith("warn:", StringComparison.Ordinal) || line.StartsWith("fail:", StringComparison.Ordinal)
        || line.Contains("Exception", StringComparison.Ordinal);

    /// <summary>Akka's log lines start with "[LEVEL][date time][thread]…": keep the level and the message, mask what varies.</summary>
    private static string Normalize(string line)
    {
        var text = Regex.Replace(line, @"\[\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}[^\]]*\]", "");
        text = Regex.Replace(text, @"\[Thread \d+\]", "");
        text = Regex.Replace(text, @"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(:|%3A)\d+", "$1$2*");
        text = Regex.Replace(text, @"Uid=-?\d+", "Uid=*");
        text = Regex.Replace(text, @"-\d+(/|\])", "-*$1");
        text = Regex.Replace(text, @"\b\d+ (millis|ms)\b", "N $1");
        text = text.Replace('`', '\'');
        return text.Length > 200 ? text[..200] + "…" : text;
    }

    public static async Task Until(Func<Task<bool>> condition, string what, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            try
            {
                if (await condition()) return;
            }
            catch (HttpRequestException)
            {
                // A node busy starting or stopping: ask again.
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
                // Same, slow to answer.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting until {what}");
            await Task.Delay(50, cancel);
        }
    }

    /// <summary>Until <paramref name="via"/> no longer lists <paramref name="name"/> (after a leave, or after the split-brain resolver downed it).</summary>
    public static Task RemovedAsync(NodeProcess via, string name, TimeSpan timeout, CancellationToken cancel) =>
        Until(async () => (await via.MembersAsync()).All(m => m.Name != name), $"{name} is no longer a member", timeout, cancel);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _nodes.DisposeAsync();
        _network?.Dispose();
    }
}

/// <summary>The reports the followed nodes stream, merged into one channel.</summary>
public sealed class ReportFeed : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly List<HttpClient> _clients = [];
    private readonly List<Task> _readers = [];
    private readonly Channel<ApplyReport> _reports = Channel.CreateUnbounded<ApplyReport>();

    public ChannelReader<ApplyReport> Reports => _reports.Reader;

    private ReportFeed(CancellationToken cancel) => _stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);

    public static async Task<ReportFeed> StartAsync(IReadOnlyList<NodeProcess> nodes, CancellationToken cancel)
    {
        var feed = new ReportFeed(cancel);
        try
        {
            foreach (var node in nodes)
            {
                var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
                feed._clients.Add(http);
                var response = await http.SendAsync(BenchMesh.Request(HttpMethod.Get, node, "v1/events"), HttpCompletionOption.ResponseHeadersRead, feed._stop.Token);
                response.EnsureSuccessStatusCode();
                var stream = await response.Content.ReadAsStreamAsync(feed._stop.Token);
                feed._readers.Add(Task.Run(() => feed.ReadAsync(stream)));
            }
            return feed;
        }
        catch
        {
            await feed.DisposeAsync();
            throw;
        }
    }

    private async Task ReadAsync(Stream stream)
    {
        try
        {
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                var e = JsonSerializer.Deserialize<MeshEvent>(line["data: ".Length..], ApiJson.Options);
                if (e is { Kind: "report", Report: { } report }) _reports.Writer.TryWrite(report);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        catch (IOException)
        {
            // The node went away.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_readers);
        }
        catch (Exception)
        {
            // Readers end on cancellation; nothing to keep.
        }
        foreach (var c in _clients) c.Dispose();
        _stop.Dispose();
    }
}

/// <summary>A push the node answered with an error status.</summary>
public sealed class PushRefusedException(string message, string nodeLog) : InvalidOperationException(message)
{
    public string NodeLog { get; } = nodeLog;
}
