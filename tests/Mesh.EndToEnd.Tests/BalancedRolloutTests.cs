using System.Diagnostics;
using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// examples/rolling-web.yaml for real: three nodes each run its HTTP service under runit,
/// a real HAProxy balances over them, and the rollout drains and undrains each node through
/// HAProxy's runtime API. A request loop through the balancer during the rollout sees no error,
/// although every node's service is down for two seconds while it restarts.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class BalancedRolloutTests(WebNodeMesh mesh) : IClassFixture<WebNodeMesh>
{
    /// <summary>The example, made to run three "hosts" on one machine: a port per node, paths under each node's root.</summary>
    private string Example(string release, string socket, bool broken = false)
    {
        var text = File.ReadAllText(Path.Combine(Binaries.RepoRoot, "examples", "rolling-web.yaml"))
            .Replace("release 1", release)
            .Replace("TCP-LISTEN:8080", "TCP-LISTEN:$(cat ../../../port)")
            .Replace("EXEC:/srv/web/respond", "EXEC:../../../srv/web/respond")
            .Replace("cat /srv/web/index.html", "cat ../../../srv/web/index.html")
            .Replace("/run/haproxy/admin.sock", socket)
            .Replace("canary: { nodes: [web-1] }", "canary: { nodes: [n2] }")
            .Replace("""      - { http: "http://127.0.0.1:8080/", body: "hello", timeout: 1s, retries: 20 }""",
                $"      - command: printf 'GET / HTTP/1.0\\r\\n\\r\\n' | socat -t 2 - TCP:127.0.0.1:$(cat \"$MESH_ROOT/port\") | grep -q hello\n" +
                "        timeout: 3s\n        retries: 20");
        Assert.Contains("$(cat \"$MESH_ROOT/port\")", text);
        // Broken: the service listens on the wrong port, so nothing answers on its own.
        if (broken) text = text.Replace("TCP-LISTEN:$(cat ../../../port)", "TCP-LISTEN:$(( $(cat ../../../port) + 1 ))");
        return mesh.Write($"rolling-web-{release.Replace(' ', '-')}.yaml", text);
    }

    [SkippableFact]
    public async Task Requests_through_haproxy_never_hit_a_drained_node_during_a_rollout()
    {
        Skip.If(!DebPackage.OnPath("haproxy") || !DebPackage.OnPath("socat"),
            "needs the Debian packages haproxy and socat (tests/apt-packages.txt; test.sh installs them as root)");
        Runsvdir.Require();

        var ports = mesh.Nodes.ToDictionary(n => n.Name, _ => Binaries.FreePort());
        var runsvdirs = new List<Runsvdir>();
        using var stop = new Disposer(runsvdirs);
        foreach (var node in mesh.Nodes)
        {
            File.WriteAllText(node.RootPath("/port"), ports[node.Name].ToString());
            Directory.CreateDirectory(node.RootPath("/srv")); // there on a real host
            Directory.CreateDirectory(node.RootPath("/etc/sv"));
            Directory.CreateDirectory(node.RootPath("/etc/service"));
            runsvdirs.Add(new Runsvdir(node.RootPath("/etc/service")));
        }
        var socket = Path.Combine(mesh.WorkDir, "haproxy.sock");
        var balancer = Binaries.FreePort();
        var config = mesh.Write("haproxy.cfg", $"""
            global
              stats socket {socket} mode 600 level admin
            defaults
              mode http
              timeout connect 1s
              timeout client 5s
              timeout server 5s
              retries 0
            frontend fe
              bind 127.0.0.1:{balancer}
              default_backend web
            backend web
            {string.Join("\n", mesh.Nodes.Select(n => $"  server {n.Name} 127.0.0.1:{ports[n.Name]}"))}
            """ + "\n");
        using var haproxy = Process.Start(new ProcessStartInfo("haproxy", ["-db", "-f", config])
            { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true })!;
        try
        {
            var first = await mesh["n1"].Cli("push", Example("release 1", socket), "--wait", "--timeout", "120s", "--pause", "0s");
            Assert.True(first.ExitCode == 0, first.ToString());
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var url = $"http://127.0.0.1:{balancer}/";
            await ThreeNodeMesh.Until(async () =>
            {
                for (var i = 0; i < 9; i++)
                    if (!(await http.GetAsync(url)).IsSuccessStatusCode) return false;
                return true;
            }, "every service answers through the balancer", TimeSpan.FromSeconds(60));

            // Requests through the balancer while a rollout runs, until it is over (bounded by the push's own deadline).
            async Task<(int Served, List<string> Failures, HashSet<string> Bodies)> During(Func<Task<ProcessResult>> rollout)
            {
                using var over = new CancellationTokenSource(TimeSpan.FromSeconds(150));
                var loop = Task.Run(async () =>
                {
                    var (ok, errors, seen) = (0, new List<string>(), new HashSet<string>());
                    while (!over.IsCancellationRequested)
                    {
                        try
                        {
                            using var response = await http.GetAsync(url);
                            var body = await response.Content.ReadAsStringAsync();
                            if (response.IsSuccessStatusCode) (ok, _) = (ok + 1, seen.Add(body.Trim()));
                            else errors.Add($"{(int)response.StatusCode} at {DateTime.UtcNow:HH:mm:ss.fff}");
                        }
                        catch (HttpRequestException e)
                        {
                            errors.Add($"{e.Message} at {DateTime.UtcNow:HH:mm:ss.fff}");
                        }
                        await Task.Delay(20);
                    }
                    return (ok, errors, seen);
                });
                var done = await rollout();
                await over.CancelAsync();
                var result = await loop;
                Assert.True(result.errors.Count == 0,
                    $"{result.errors.Count} failed requests of {result.ok + result.errors.Count}: {string.Join(", ", result.errors.Take(10))}\n{done}");
                Assert.True(result.ok > 50, $"only {result.ok} requests went through\n{done}");
                return result;
            }

            ProcessResult push = null!;
            var (_, _, bodies) = await During(async () => push = await mesh["n3"].Cli("push", Example("release 2", socket), "--wait", "--timeout", "120s", "--pause", "0s"));
            Assert.True(push.ExitCode == 0, push.ToString());
            Assert.True(push.Out.Contains("batch 1/3: n2"), push.ToString());
            Assert.Contains("hello from release 1", bodies);
            Assert.Contains("hello from release 2", bodies);
            var audit = (await mesh["n1"].Cli("audit", "--json")).Json<Mesh.Protocol.Wire.AuditEntry[]>();
            foreach (var node in mesh.Nodes)
                Assert.Equal(["draining", "applying", "checking", "undraining", "healthy"],
                    audit.Where(e => e.Node == node.Name && e.Kind == "rollout" && e.Manifest == "rolling-web" && !e.Detail.StartsWith("started"))
                        .OrderBy(e => e.Time).TakeLast(5).Select(e => e.Detail));

            // A bad release: its service never listens. The canary fails its check, goes back to
            // release 2 (page, responder and run script) and takes traffic again; the others never see it.
            ProcessResult bad = null!;
            await During(async () => bad = await mesh["n1"].Cli("push", Example("release 3", socket, broken: true), "--wait", "--timeout", "120s", "--pause", "0s"));
            Assert.True(bad.ExitCode == 1, bad.ToString());
            Assert.True(bad.Out.Contains("halted at batch 1 of 3: 1 failed (allowed 0): n2"), bad.ToString());
            Assert.Matches("failed: n2: health: command .* back on ", bad.Out);
            foreach (var node in mesh.Nodes)
            {
                Assert.Equal("hello from release 2\n", RolloutMesh.Read(node, "/srv/web/index.html"));
                Assert.DoesNotContain("release 3", File.ReadAllText(node.RootPath("/etc/sv/web/run")));
                await ThreeNodeMesh.Until(async () => (await Direct(ports[node.Name])).Contains("release 2"), $"{node.Name} serves release 2 itself");
            }
        }
        finally
        {
            if (!haproxy.HasExited) haproxy.Kill();
            await haproxy.WaitForExitAsync();
        }
    }

    /// <summary>What a node's own service answers, bypassing the balancer ("" when it does not).</summary>
    private static async Task<string> Direct(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            return await http.GetStringAsync($"http://127.0.0.1:{port}/");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return "";
        }
    }

    private sealed class Disposer(List<Runsvdir> runsvdirs) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in runsvdirs) r.Dispose();
        }
    }
}

/// <summary>A real runsvdir on a scan directory; disposing kills it and everything below it (runsv and services), each by pid.</summary>
internal sealed class Runsvdir : IDisposable
{
    private readonly Process _process;

    public Runsvdir(string scanDirectory)
    {
        var info = new ProcessStartInfo("runsvdir", [scanDirectory])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        _process = Process.Start(info) ?? throw new InvalidOperationException("runsvdir did not start");
    }

    public static void Require()
    {
        foreach (var tool in new[] { "runsvdir", "runsv", "sv" })
            if (!DebPackage.OnPath(tool)) throw new InvalidOperationException($"'{tool}' is not installed: apt-get install runit (tests/apt-packages.txt)");
    }

    public void Dispose()
    {
        // Everything below runsvdir, found before anything dies, then runsvdir.
        // Each one by its own pid: never a process group, never anything this test did not start.
        var tree = Descendants(_process.Id);
        foreach (var pid in tree.Prepend(_process.Id))
            try
            {
                using var each = Process.GetProcessById(pid);
                each.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone already.
            }
        _process.WaitForExit(10_000);
        _process.Dispose();
    }

    private static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid))
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                }
                catch (IOException)
                {
                    // Gone meanwhile.
                }
        var found = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out var parent))
            foreach (var child in parents.Where(p => p.Value == parent).Select(p => p.Key))
            {
                found.Add(child);
                queue.Enqueue(child);
            }
        return found;
    }
}
