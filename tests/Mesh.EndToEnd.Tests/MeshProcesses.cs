using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>Where the real binaries are: built by this solution, same configuration as the tests.</summary>
public static class Binaries
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public static readonly string RepoRoot = FindRepoRoot();

    /// <summary>
    /// A directory of the programs as packaged (<c>packaging/build-deb.sh --publish-only DIR</c>):
    /// when MESH_BIN names one, its native <c>mesh-node</c> and <c>mesh</c> run instead of the build's assemblies (the bench measures those).
    /// </summary>
    public static readonly string? Published = Environment.GetEnvironmentVariable("MESH_BIN") is { Length: > 0 } dir ? Path.GetFullPath(dir) : null;

    /// <summary>The node compiled ReadyToRun (framework-dependent), when MESH_NODE names its mesh-node.dll (test.sh builds it): it starts on less CPU.</summary>
    public static readonly string? CompiledNode = Environment.GetEnvironmentVariable("MESH_NODE") is { Length: > 0 } node ? Path.GetFullPath(node) : null;

    public static string Node => Published is { } dir ? Path.Combine(dir, "mesh-node")
        : CompiledNode ?? Path.Combine(RepoRoot, "src", "Node", "bin", Configuration, "net10.0", "mesh-node.dll");
    /// <summary>
    /// The CLI compiled ahead of time, as the package ships it, when MESH_CLI names it (test.sh
    /// builds it): the tests run the CLI hundreds of times, and the JIT-compiled assembly costs
    /// ~0.4 s of CPU a run where the compiled program costs milliseconds.
    /// </summary>
    public static readonly string? CompiledCli = Environment.GetEnvironmentVariable("MESH_CLI") is { Length: > 0 } cli ? Path.GetFullPath(cli) : null;

    public static string Cli => Published is { } dir ? Path.Combine(dir, "mesh")
        : CompiledCli ?? Path.Combine(RepoRoot, "src", "Cli", "bin", Configuration, "net10.0", "mesh.dll");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.sln"))) return dir.FullName;
        throw new InvalidOperationException("Mesh.sln not found above the test binaries");
    }

    /// <summary>
    /// Runs <paramref name="binary"/> (<see cref="Node"/> or <see cref="Cli"/>) to its exit, inside network
    /// namespace <paramref name="netns"/> (null: this process's own), and captures what it prints.
    /// One still running after <paramref name="timeout"/> (default 2 min) is killed, and that is an error.
    /// </summary>
    /// <param name="environment">variables to set, and (with a null value) to remove</param>
    public static async Task<ProcessResult> RunAsync(string binary, string? netns, string workDir, IReadOnlyList<string> args,
        TimeSpan? timeout = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = StartInfo(binary, netns, workDir, args);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value is null) info.Environment.Remove(name);
            else info.Environment[name] = value;
        return await RunToExitAsync(info, timeout, $"{Path.GetFileNameWithoutExtension(binary)} {string.Join(' ', args)}");
    }

    /// <summary>
    /// Runs any program (<paramref name="info"/>, its output redirected) to its exit and captures
    /// what it prints. One still running after <paramref name="timeout"/> (default 2 min) is
    /// killed, and that is an error naming <paramref name="what"/> (default: the command line).
    /// </summary>
    public static async Task<ProcessResult> RunToExitAsync(ProcessStartInfo info, TimeSpan? timeout = null, string? what = null)
    {
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        using var expired = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(expired.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{what ?? $"{info.FileName} {string.Join(' ', info.ArgumentList)}"} still ran after {limit.TotalSeconds:0} s:\n{await stdout}\n{await stderr}");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary><see cref="RunToExitAsync(ProcessStartInfo, TimeSpan?, string?)"/> of <paramref name="program"/> (looked up on PATH) with <paramref name="args"/>.</summary>
    public static Task<ProcessResult> RunToExitAsync(string program, IEnumerable<string> args, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        return RunToExitAsync(info, timeout);
    }

    /// <summary>How to start <paramref name="binary"/> with its output redirected: under dotnet, through <c>ip netns exec</c> in a namespace.</summary>
    public static ProcessStartInfo StartInfo(string binary, string? netns, string workDir, IEnumerable<string> args)
    {
        // ip netns exec executes the command in place: the process is the binary itself.
        // An assembly runs under dotnet; a published program runs by itself.
        var assembly = binary.EndsWith(".dll", StringComparison.Ordinal);
        var program = assembly ? "dotnet" : binary;
        var info = new ProcessStartInfo(netns is null ? program : "ip") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir };
        if (netns is not null) foreach (var a in new[] { "netns", "exec", netns, program }) info.ArgumentList.Add(a);
        if (assembly) info.ArgumentList.Add(binary);
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    /// <summary>A free loopback TCP port, as the OS hands it out.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One real <c>mesh-node</c> process. Disposing it kills it (and waits).</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    /// <summary>How it was started: flags, and variables set, for <see cref="RestartAsync"/>.</summary>
    private readonly List<string> _args;
    private readonly IReadOnlyDictionary<string, string>? _environment;
    private readonly HttpClient _http;

    public string Name { get; }
    public string Api { get; }
    public string DataDir { get; }
    /// <summary>The network namespace the node runs in (its own host), or null on the test's own network.</summary>
    public string? Namespace { get; }
    private string WorkDir { get; }
    public string Root => Path.Combine(DataDir, "root");
    public string ClusterAddress { get; private set; } = "";

    private NodeProcess(string name, string api, string dataDir, string workDir, string? netns, Process process, List<string> args,
        IReadOnlyDictionary<string, string>? environment)
    {
        _args = args;
        _environment = environment;
        Name = name;
        Api = api;
        DataDir = dataDir;
        WorkDir = workDir;
        Namespace = netns;
        _process = process;
        // An attached host has no control API.
        _http = new HttpClient { BaseAddress = api.Length > 0 ? new Uri($"http://{api}/") : null, Timeout = TimeSpan.FromSeconds(5) };
    }

    /// <param name="extraArgs">further mesh-node flags, e.g. <c>["--config", path]</c></param>
    /// <param name="waitUntilUp">false: return once the control API answers, for a node that is not expected to join</param>
    /// <param name="apiHost">the address the control API binds to (default loopback); clients still reach it on 127.0.0.1</param>
    /// <param name="environment">variables to set for the node (e.g. NOTIFY_SOCKET)</param>
    /// <param name="clusterPort">the cluster port; 0 (default) lets the node pick a free one</param>
    public static async Task<NodeProcess> StartAsync(string name, string workDir, string? seed = null, string[]? roles = null, string[]? labels = null,
        IEnumerable<string>? extraArgs = null, bool waitUntilUp = true, string apiHost = "127.0.0.1", IReadOnlyDictionary<string, string>? environment = null,
        int clusterPort = 0)
    {
        var port = Binaries.FreePort();
        var api = $"127.0.0.1:{port}";
        var dataDir = Path.Combine(workDir, name);
        var args = new List<string> { "--name", name, "--port", clusterPort.ToString(), "--api", $"{apiHost}:{port}", "--data-dir", dataDir };
        if (seed is not null) args.AddRange(["--seed", seed]);
        foreach (var r in roles ?? []) args.AddRange(["--role", r]);
        foreach (var l in labels ?? []) args.AddRange(["--label", l]);
        args.AddRange(extraArgs ?? []);
        return await LaunchAsync(name, api, dataDir, workDir, null, args, waitUntilUp: waitUntilUp, environment: environment);
    }

    /// <summary>
    /// A node on a host of its own: run inside network namespace <paramref name="netns"/>, bound
    /// to <paramref name="address"/> (cluster port 4710, API port 4711, which needs its token
    /// there), joining <paramref name="seeds"/> (HOST:PORT).
    /// </summary>
    /// <param name="waitUntilUp">false: return once the control API answers, before the node has joined</param>
    public static async Task<NodeProcess> StartInNamespaceAsync(string name, string workDir, string netns, string address, IEnumerable<string> seeds,
        IEnumerable<string>? extraArgs = null, bool waitUntilUp = true)
    {
        var api = $"{address}:4711";
        var dataDir = Path.Combine(workDir, name);
        var args = new List<string> { "--name", name, "--host", address, "--port", "4710", "--api", api, "--data-dir", dataDir };
        foreach (var seed in seeds) args.AddRange(["--seed", seed]);
        args.AddRange(extraArgs ?? []);
        return await LaunchAsync(name, api, dataDir, workDir, netns, args, waitUntilUp);
    }

    /// <summary>
    /// An attached host (<c>--attach</c>): not a member, no control API. Returns once its log says
    /// it is attached to a core peer (<paramref name="waitUntilAttached"/>), or at once.
    /// </summary>
    /// <param name="contacts">the core peers' cluster addresses (<see cref="ClusterAddress"/>) or HOST:PORT</param>
    public static Task<NodeProcess> StartAttachedAsync(string name, string workDir, IEnumerable<string> contacts, string[]? roles = null,
        IEnumerable<string>? extraArgs = null, bool waitUntilAttached = true, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dataDir = Path.Combine(workDir, name);
        var args = new List<string> { "--name", name, "--port", "0", "--data-dir", dataDir };
        foreach (var contact in contacts) args.AddRange(["--attach", contact]);
        foreach (var r in roles ?? []) args.AddRange(["--role", r]);
        args.AddRange(extraArgs ?? []);
        return LaunchAsync(name, "", dataDir, workDir, null, args, waitUntilAttached, environment);
    }

    /// <summary>This process is an attached host: it has no control API, and says in its log which peer it is attached to.</summary>
    public bool Attached => _args.Contains("--attach");

    /// <summary>Waits until the log says the host attached <paramref name="times"/> times in all (a move to another peer is one more).</summary>
    public async Task AttachedAsync(int times = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (System.Text.RegularExpressions.Regex.Matches(Log, "attached to core peer ").Count < times)
        {
            if (HasExited) throw new InvalidOperationException($"mesh-node {Name} exited with {_process.ExitCode}:\n{Log}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"mesh-node {Name} did not attach ({times}):\n{Log}");
            await Task.Delay(50);
        }
    }

    private static async Task<NodeProcess> LaunchAsync(string name, string api, string dataDir, string workDir, string? netns, List<string> args,
        bool waitUntilUp = true, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = Binaries.StartInfo(Binaries.Node, netns, workDir, args);
        foreach (var (variable, value) in environment ?? new Dictionary<string, string>()) info.Environment[variable] = value;
        var process = Process.Start(info)!;
        var node = new NodeProcess(name, api, dataDir, workDir, netns, process, args, environment);
        process.OutputDataReceived += (_, e) => { lock (node._log) node._log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (node._log) node._log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await node.WaitUpAsync(waitUntilUp);
        }
        catch
        {
            // A node that never came up is not left running.
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Whether the process has ended; a node already disposed (killed and forgotten, e.g. while it is being replaced) has.</summary>
    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>The OS process id (for /proc readings).</summary>
    public int Pid => _process.Id;

    public string RootPath(string path) => Path.Combine(Root, path.TrimStart('/'));

    /// <summary>Waits until the node's API answers and (<paramref name="untilUp"/>) the node sees itself up.</summary>
    private async Task WaitUpAsync(bool untilUp)
    {
        if (Attached)
        {
            if (untilUp) await AttachedAsync();
            return;
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"mesh-node {Name} exited with {_process.ExitCode}:\n{Log}");
            try
            {
                var self = (await MembersAsync()).FirstOrDefault(m => m.Self);
                if (!untilUp) return;
                if (self is { Status: "up" })
                {
                    ClusterAddress = self.Address;
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow to answer while starting.
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"mesh-node {Name} did not come up:\n{Log}");
    }

    /// <summary>The file holding the API token, which an API off loopback requires.</summary>
    public string TokenFile => Path.Combine(DataDir, "api-token");

    public async Task<MemberInfo[]> MembersAsync() =>
        (await Authorized().GetFromJsonAsync<MemberInfo[]>("v1/members", ApiJson.Options))!;

    public async Task<StatusReport> StatusAsync() =>
        (await Authorized().GetFromJsonAsync<StatusReport>("v1/status", ApiJson.Options))!;

    /// <summary>A GET of the control API (<paramref name="path"/> relative, e.g. <c>v1/status?state=x</c>), as it answers.</summary>
    public Task<HttpResponseMessage> GetAsync(string path) => Authorized().GetAsync(path);

    /// <summary><c>GET /metrics</c>, with the token when the node wrote one.</summary>
    public Task<HttpResponseMessage> MetricsAsync() => Authorized().GetAsync("metrics");

    private HttpClient Authorized()
    {
        // The node writes its token when its API starts, off loopback only; the file can be seen
        // empty for a moment before the token is in it.
        if (_http.DefaultRequestHeaders.Authorization is null && File.Exists(TokenFile) && File.ReadAllText(TokenFile).Trim() is { Length: > 0 } token)
            _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return _http;
    }

    /// <summary>
    /// Runs the real CLI against this node, from inside its namespace when it has one (so it
    /// reaches the node even while the node is cut off from the test's network).
    /// </summary>
    public Task<ProcessResult> Cli(params string[] args) =>
        MeshCli.RunInAsync(Namespace, WorkDir, [.. Namespace is null ? [] : new[] { "--token-file", TokenFile }, "--api", Api, .. args]);

    /// <summary>
    /// Starts this node again, after it exited or was killed: the same flags (name, addresses,
    /// data directory, seeds), so the same cluster address. Returns once its control API answers
    /// (it need not have joined yet); the new process keeps this one's cluster address.
    /// </summary>
    public async Task<NodeProcess> RestartAsync()
    {
        if (!_process.HasExited) throw new InvalidOperationException($"mesh-node {Name} is still running");
        // An attached host may restart with no peer to answer: it is not waited for either.
        var again = await LaunchAsync(Name, Api, DataDir, WorkDir, Namespace, _args, waitUntilUp: false, environment: _environment);
        again.ClusterAddress = ClusterAddress;
        return again;
    }

    /// <summary>Kills the process at once (SIGKILL), as a crash or a power cut would.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Freezes the process (SIGSTOP), as a hung host would: it answers nobody until thawed.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Lets a frozen process run again (SIGCONT).</summary>
    public void Thaw() => Signal("CONT");

    /// <summary>Asks the node to reload its configuration (SIGHUP), as <c>systemctl reload</c> does.</summary>
    public void Reload() => Signal("HUP");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString()])!;
        kill.WaitForExit();
    }

    /// <summary>Waits for the process to end by itself; returns its exit code.</summary>
    public async Task<int> ExitedAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"mesh-node {Name} still runs after {timeout}:\n{Log}");
        }
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM and waits for a graceful exit; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (_process.HasExited) return _process.ExitCode;
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>
/// The mesh-node processes one test class (or one benchmark run) starts, and the work directory
/// they run in. Disposing kills every node it still holds (and waits for each) and, when the
/// group made the directory, removes it.
/// </summary>
public sealed class NodeGroup : IAsyncDisposable
{
    private readonly List<NodeProcess> _nodes = [];
    private readonly bool _ownsWorkDir;

    private NodeGroup(string workDir, bool ownsWorkDir)
    {
        WorkDir = workDir;
        _ownsWorkDir = ownsWorkDir;
    }

    /// <summary>A group in a new temporary directory named after <paramref name="prefix"/>, removed on disposal.</summary>
    public static NodeGroup InTempDirectory(string prefix) => new(Directory.CreateTempSubdirectory(prefix).FullName, ownsWorkDir: true);

    /// <summary>A group in the existing directory <paramref name="workDir"/>, which outlives it.</summary>
    public static NodeGroup In(string workDir) => new(workDir, ownsWorkDir: false);

    public string WorkDir { get; }

    /// <summary>The nodes started so far and not removed, in start order.</summary>
    public IReadOnlyList<NodeProcess> Nodes
    {
        get { lock (_nodes) return _nodes.ToArray(); }
    }

    /// <summary>Writes a file into the work directory and returns its path.</summary>
    public string Write(string fileName, string text)
    {
        var path = Path.Combine(WorkDir, fileName);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary><see cref="NodeProcess.StartAsync"/> in this group's directory; the node is kept until disposal.</summary>
    public Task<NodeProcess> StartAsync(string name, string? seed = null, string[]? roles = null, string[]? labels = null,
        IEnumerable<string>? extraArgs = null, bool waitUntilUp = true, string apiHost = "127.0.0.1", IReadOnlyDictionary<string, string>? environment = null,
        int clusterPort = 0) =>
        KeepAsync(NodeProcess.StartAsync(name, WorkDir, seed, roles, labels, extraArgs, waitUntilUp, apiHost, environment, clusterPort));

    /// <summary><see cref="NodeProcess.RestartAsync"/> of a node of this group that exited or was killed; the new process takes its place.</summary>
    public async Task<NodeProcess> RestartAsync(NodeProcess node)
    {
        var again = await KeepAsync(node.RestartAsync());
        lock (_nodes) _nodes.Remove(node);
        await node.DisposeAsync();
        return again;
    }

    /// <summary><see cref="NodeProcess.StartAttachedAsync"/> in this group's directory; the host is kept until disposal.</summary>
    public Task<NodeProcess> StartAttachedAsync(string name, IEnumerable<string> contacts, string[]? roles = null, IEnumerable<string>? extraArgs = null,
        bool waitUntilAttached = true, IReadOnlyDictionary<string, string>? environment = null) =>
        KeepAsync(NodeProcess.StartAttachedAsync(name, WorkDir, contacts, roles, extraArgs, waitUntilAttached, environment));

    /// <summary><see cref="NodeProcess.StartInNamespaceAsync"/> in this group's directory; the node is kept until disposal.</summary>
    public Task<NodeProcess> StartInNamespaceAsync(string name, string netns, string address, IEnumerable<string> seeds, IEnumerable<string>? extraArgs = null,
        bool waitUntilUp = true) =>
        KeepAsync(NodeProcess.StartInNamespaceAsync(name, WorkDir, netns, address, seeds, extraArgs, waitUntilUp));

    private async Task<NodeProcess> KeepAsync(Task<NodeProcess> starting)
    {
        var node = await starting;
        // Kept at once, so that a node is stopped even when a sibling started beside it fails to come up.
        lock (_nodes) _nodes.Add(node);
        return node;
    }

    /// <summary>Kills one node now and forgets it.</summary>
    public async Task RemoveAsync(NodeProcess node)
    {
        lock (_nodes) _nodes.Remove(node);
        await node.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NodeProcess[] nodes;
        lock (_nodes)
        {
            nodes = _nodes.ToArray();
            _nodes.Clear();
        }
        await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        if (!_ownsWorkDir) return;
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory does not fail the run.
        }
    }
}

/// <summary>What a binary run to its exit returned and printed.</summary>
public sealed record ProcessResult(int ExitCode, string Out, string Err)
{
    /// <summary>Standard output, then standard error: for a message that may be on either.</summary>
    public string Printed => Out + Err;

    /// <summary>Standard output read as the API's JSON (what <c>--json</c> prints).</summary>
    public T Json<T>() => JsonSerializer.Deserialize<T>(Out, ApiJson.Options) ?? throw new InvalidDataException(ToString());

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
}

/// <summary>Runs the real <c>mesh</c> CLI and captures what it prints.</summary>
public static class MeshCli
{
    public static Task<ProcessResult> RunAsync(string workDir, params string[] args) => RunInAsync(null, workDir, args);

    /// <summary>Runs the CLI inside network namespace <paramref name="netns"/> (null: this process's own).</summary>
    public static Task<ProcessResult> RunInAsync(string? netns, string workDir, params string[] args) => RunInAsync(netns, workDir, null, args);

    /// <param name="timeout">how long the CLI may run before it is killed (default 2 min): a long <c>--wait</c> needs more</param>
    public static Task<ProcessResult> RunInAsync(string? netns, string workDir, TimeSpan? timeout, params string[] args) =>
        Binaries.RunAsync(Binaries.Cli, netns, workDir, args, timeout, environment: new Dictionary<string, string?>
        {
            ["NO_COLOR"] = "1",
            // No signing key from the account running the tests: a test names its key with --key.
            ["XDG_CONFIG_HOME"] = Path.Combine(workDir, ".config"),
            ["MESH_KEY"] = null,
        });
}
