using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
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
    public static string Node => Path.Combine(RepoRoot, "src", "Node", "bin", Configuration, "net10.0", "mesh-node.dll");
    public static string Cli => Path.Combine(RepoRoot, "src", "Cli", "bin", Configuration, "net10.0", "mesh.dll");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.sln"))) return dir.FullName;
        throw new InvalidOperationException("Mesh.sln not found above the test binaries");
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
    private readonly HttpClient _http;

    public string Name { get; }
    public string Api { get; }
    public string DataDir { get; }
    /// <summary>The network namespace the node runs in (its own host), or null on the test's own network.</summary>
    public string? Namespace { get; }
    private string WorkDir { get; }
    public string Root => Path.Combine(DataDir, "root");
    public string ClusterAddress { get; private set; } = "";

    private NodeProcess(string name, string api, string dataDir, string workDir, string? netns, Process process)
    {
        Name = name;
        Api = api;
        DataDir = dataDir;
        WorkDir = workDir;
        Namespace = netns;
        _process = process;
        _http = new HttpClient { BaseAddress = new Uri($"http://{api}/"), Timeout = TimeSpan.FromSeconds(5) };
    }

    /// <param name="extraArgs">further mesh-node flags, e.g. <c>["--config", path]</c></param>
    /// <param name="waitUntilUp">false: return once the control API answers, for a node that is not expected to join</param>
    /// <param name="apiHost">the address the control API binds to (default loopback); clients still reach it on 127.0.0.1</param>
    public static async Task<NodeProcess> StartAsync(string name, string workDir, string? seed = null, string[]? roles = null, string[]? labels = null,
        IEnumerable<string>? extraArgs = null, bool waitUntilUp = true, string apiHost = "127.0.0.1")
    {
        var port = Binaries.FreePort();
        var api = $"127.0.0.1:{port}";
        var dataDir = Path.Combine(workDir, name);
        var args = new List<string> { Binaries.Node, "--name", name, "--port", "0", "--api", $"{apiHost}:{port}", "--data-dir", dataDir };
        if (seed is not null) args.AddRange(["--seed", seed]);
        foreach (var r in roles ?? []) args.AddRange(["--role", r]);
        foreach (var l in labels ?? []) args.AddRange(["--label", l]);
        args.AddRange(extraArgs ?? []);
        return await LaunchAsync(name, api, dataDir, workDir, null, args, waitUntilUp: waitUntilUp);
    }

    /// <summary>
    /// A node on a host of its own: run inside network namespace <paramref name="netns"/>, bound
    /// to <paramref name="address"/> (cluster port 4710, API port 4711, which needs its token
    /// there), joining <paramref name="seeds"/> (HOST:PORT).
    /// </summary>
    public static async Task<NodeProcess> StartInNamespaceAsync(string name, string workDir, string netns, string address, IEnumerable<string> seeds,
        IEnumerable<string>? extraArgs = null)
    {
        var api = $"{address}:4711";
        var dataDir = Path.Combine(workDir, name);
        var args = new List<string> { "netns", "exec", netns, "dotnet", Binaries.Node, "--name", name, "--host", address, "--port", "4710", "--api", api, "--data-dir", dataDir };
        foreach (var seed in seeds) args.AddRange(["--seed", seed]);
        args.AddRange(extraArgs ?? []);
        return await LaunchAsync(name, api, dataDir, workDir, netns, args, program: "ip");
    }

    private static async Task<NodeProcess> LaunchAsync(string name, string api, string dataDir, string workDir, string? netns, List<string> args,
        string program = "dotnet", bool waitUntilUp = true)
    {
        // ip netns exec executes the command in place: the process is the node itself.
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir };
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        var node = new NodeProcess(name, api, dataDir, workDir, netns, process);
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

    public bool HasExited => _process.HasExited;

    /// <summary>The OS process id (for /proc readings).</summary>
    public int Pid => _process.Id;

    public string RootPath(string path) => Path.Combine(Root, path.TrimStart('/'));

    /// <summary>Waits until the node's API answers and (<paramref name="untilUp"/>) the node sees itself up.</summary>
    private async Task WaitUpAsync(bool untilUp)
    {
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
    public Task<MeshCli.Result> Cli(params string[] args) =>
        MeshCli.RunInAsync(Namespace, WorkDir, [.. Namespace is null ? [] : new[] { "--token-file", TokenFile }, "--api", Api, .. args]);

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

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString()])!;
        kill.WaitForExit();
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

/// <summary>Runs the real <c>mesh</c> CLI and captures what it prints.</summary>
public static class MeshCli
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    public static Task<Result> RunAsync(string workDir, params string[] args) => RunInAsync(null, workDir, args);

    /// <summary>Runs the CLI inside network namespace <paramref name="netns"/> (null: this process's own).</summary>
    public static async Task<Result> RunInAsync(string? netns, string workDir, params string[] args)
    {
        var info = new ProcessStartInfo(netns is null ? "dotnet" : "ip") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir };
        if (netns is not null) foreach (var a in new[] { "netns", "exec", netns, "dotnet" }) info.ArgumentList.Add(a);
        info.ArgumentList.Add(Binaries.Cli);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        // No signing key from the account running the tests: a test names its key with --key.
        info.Environment["XDG_CONFIG_HOME"] = Path.Combine(workDir, ".config");
        info.Environment.Remove("MESH_KEY");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"mesh {string.Join(' ', args)} did not finish");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
