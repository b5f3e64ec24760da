using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Mutual TLS between real mesh-node processes, with certificates made by the real
/// <c>mesh certs</c>: who joins, who does not, and how a node refuses bad TLS files.
/// </summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class TlsTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-tls-");

    private string In(string relative) => Path.Combine(_nodes.WorkDir, relative);

    private Task<ProcessResult> Mesh(params string[] args) => MeshCli.RunAsync(_nodes.WorkDir, args);

    private Task<NodeProcess> Start(string name, string? seed, string[] tlsArgs, bool waitUntilUp = true) =>
        _nodes.StartAsync(name, seed, extraArgs: tlsArgs, waitUntilUp: waitUntilUp);

    private static string[] Tls(string directory, string name, string authority) =>
        ["--tls-cert", Path.Combine(directory, name + ".crt"), "--tls-key", Path.Combine(directory, name + ".key"), "--tls-ca", authority];

    /// <summary>"akka.ssl.tcp://mesh@127.0.0.1:4321" as an operator would type it: "127.0.0.1:4321".</summary>
    private static string HostPort(string address) => Regex.Match(address, @"@(.+)$").Groups[1].Value;

    private static int Count(string text, string fragment) => Regex.Matches(text, Regex.Escape(fragment)).Count;

    private string Manifest(string name)
    {
        var path = In(name + ".yaml");
        File.WriteAllText(path, $"manifest: {name}\nresources:\n  - {{ id: f, type: file, path: /{name}, content: \"{name}\\n\" }}\n");
        return path;
    }

    [Fact]
    public async Task Nodes_with_certificates_from_mesh_certs_form_a_TLS_mesh_and_nodes_of_another_CA_never_join()
    {
        foreach (var args in new string[][]
                 {
                     ["certs", "ca", "--out", In("fleet")],
                     ["certs", "node", "a", "--ca", In("fleet"), "--out", In("nodes"), "--host", "127.0.0.1"],
                     ["certs", "node", "b", "--ca", In("fleet"), "--out", In("nodes"), "--host", "127.0.0.1"],
                     ["certs", "ca", "--out", In("foreign")],
                     ["certs", "node", "x", "--ca", In("foreign"), "--out", In("foreign")],
                 })
        {
            var made = await Mesh(args);
            Assert.True(made.ExitCode == 0, made.ToString());
        }
        var fleetCa = In("fleet/ca.crt");

        var a = await Start("a", null, Tls(In("nodes"), "a", fleetCa));
        Assert.StartsWith("akka.ssl.tcp://mesh@127.0.0.1:", a.ClusterAddress);
        var b = await Start("b", HostPort(a.ClusterAddress), Tls(In("nodes"), "b", fleetCa));
        await ThreeNodeMesh.Until(async () => (await Task.WhenAll(a.MembersAsync(), b.MembersAsync())).All(m => m.Count(x => x.Status == "up") == 2),
            "a and b see each other up");
        Assert.Contains("mesh-node a: TLS between nodes, mutual: certificate CN=a", a.Log);
        Assert.DoesNotContain("TLS between nodes is off", a.Log);

        var first = await b.Cli("push", Manifest("over-tls"), "--wait");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("all 2 report(s) ok", first.Out);
        Assert.Equal("over-tls\n", File.ReadAllText(a.RootPath("/over-tls")));

        // x is of another fleet but holds the fleet CA's certificate (no secret), so it accepts
        // the members' certificates and keeps knocking; the members refuse its own every time.
        var bothCas = In("foreign/both.crt");
        File.WriteAllText(bothCas, File.ReadAllText(In("foreign/ca.crt")) + File.ReadAllText(fleetCa));
        // x never gets in. When a refuses x's certificate during x's own handshake (rather than
        // just after it), Akka stops x, which can happen before x's control API answers (x joins
        // first): then a has refused it once; otherwise x keeps knocking and a refuses it again.
        NodeProcess? x = null;
        try
        {
            x = await Start("x", HostPort(a.ClusterAddress), Tls(In("foreign"), "x", bothCas), waitUntilUp: false);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("mesh-node x: stopping: a TLS handshake with a peer failed"))
        {
        }
        await ThreeNodeMesh.Until(async () =>
        {
            var seen = await Task.WhenAll(a.MembersAsync(), b.MembersAsync());
            Assert.DoesNotContain(seen.SelectMany(m => m), m => m.Name == "x");
            return Count(a.Log, "TLS: refused peer") >= (x is null || x.HasExited ? 1 : 2);
        }, "a refuses x (twice while x runs)", TimeSpan.FromSeconds(60));
        Assert.Matches(@"TLS: refused peer .*: certificate CN=x .* is not signed by the fleet CA", a.Log);
        if (x is not null)
        {
            try
            {
                Assert.DoesNotContain(await x.MembersAsync(), m => m.Status == "up");
            }
            catch (HttpRequestException) when (x.HasExited || x.Log.Contains("stopping: a TLS handshake with a peer failed"))
            {
            }
        }

        // y is of another fleet and trusts only its own CA: its first handshake with a fails (y
        // refuses a's certificate, or a refuses y's first: which side decides first is up to
        // the TLS exchange), and Akka stops a node whose outbound handshake failed.
        Assert.Equal(0, (await Mesh("certs", "node", "y", "--ca", In("foreign"), "--out", In("foreign"))).ExitCode);
        var y = await RunNode(["--name", "y", "--port", "0", "--api", $"127.0.0.1:{Binaries.FreePort()}", "--data-dir", In("y"),
            "--seed", HostPort(a.ClusterAddress), .. Tls(In("foreign"), "y", In("foreign/ca.crt"))]);
        Assert.True(y.ExitCode == 1, y.ToString());
        Assert.Contains("mesh-node y: stopping: a TLS handshake with a peer failed", y.Printed);
        var yRefusedA = Regex.IsMatch(y.Printed, @"TLS: refused peer .*: certificate CN=a .* is not signed by the fleet CA");
        var aRefusedY = Regex.IsMatch(a.Log, @"TLS: refused peer .*: certificate CN=y .* is not signed by the fleet CA");
        Assert.True(yRefusedA || aRefusedY, $"neither side says it refused the other:\n--- y\n{y.Printed}\n--- a\n{a.Log}");
        Assert.DoesNotContain((await a.MembersAsync()), m => m.Name == "y");

        var second = await a.Cli("push", Manifest("after-x"), "--wait");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("all 2 report(s) ok", second.Out);
        Assert.Equal("after-x\n", File.ReadAllText(b.RootPath("/after-x")));
        Assert.False(File.Exists(x?.RootPath("/after-x") ?? Path.Combine(_nodes.WorkDir, "x", "root", "after-x")));
        foreach (var via in new[] { a, b })
        {
            var members = (await via.Cli("members", "--json")).Json<MemberInfo[]>();
            Assert.Equal(["a", "b"], members.Select(m => m.Name).Order());
        }
        // x still knocks, or stopped for the one reason allowed: Akka stops a node whose own handshake failed
        // (when that came before its control API answered, the start above already checked the reason).
        if (x is not null) Assert.True(!x.HasExited || x.Log.Contains("stopping: a TLS handshake with a peer failed"), x.Log);
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "missing", "mesh.tls.certificate (--tls-cert) '{dir}/nope.crt': no such file" },
        { "no-key", "mesh.tls.certificate (--tls-cert) '{dir}/lonely.crt' holds no private key" },
        { "wrong-password", "mesh.tls.certificate (--tls-cert) '{dir}/n.pfx' cannot be read as PKCS#12 (.pfx/.p12) with the password in {dir}/wrong.txt" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_node_given_bad_TLS_files_exits_2_naming_the_file(string problem, string message)
    {
        Assert.Equal(0, (await Mesh("certs", "ca", "--out", In("ca"))).ExitCode);
        Assert.Equal(0, (await Mesh("certs", "node", "n", "--ca", In("ca"), "--out", In("ca"))).ExitCode);
        string[] tls = problem switch
        {
            "missing" => ["--tls-cert", In("ca/nope.crt"), "--tls-ca", In("ca/ca.crt")],
            "no-key" => ["--tls-cert", Copy("ca/n.crt", "ca/lonely.crt"), "--tls-ca", In("ca/ca.crt")],
            "wrong-password" => ["--tls-cert", Pfx("ca/n.pfx", "right"), "--tls-password-file", Write("ca/wrong.txt", "wrong\n"), "--tls-ca", In("ca/ca.crt")],
            _ => throw new ArgumentException(problem),
        };

        var node = await RunNode(["--name", "n", "--port", "0", "--api", $"127.0.0.1:{Binaries.FreePort()}", "--data-dir", In("n"), .. tls]);

        Assert.True(node.ExitCode == 2, node.ToString());
        Assert.Contains("mesh-node: " + message.Replace("{dir}", In("ca")), node.Printed);
    }

    [Fact]
    public async Task Without_TLS_a_node_says_once_that_node_to_node_traffic_is_plaintext()
    {
        var plain = await Start("plain", null, []);

        Assert.StartsWith("akka.tcp://", plain.ClusterAddress);
        Assert.Equal(1, Count(plain.Log, "warning: TLS between nodes is off"));
        Assert.Contains("node-to-node traffic is plaintext and unauthenticated", plain.Log);
    }

    private string Copy(string from, string to)
    {
        File.Copy(In(from), In(to));
        return In(to);
    }

    private string Write(string file, string text)
    {
        File.WriteAllText(In(file), text);
        return In(file);
    }

    private string Pfx(string file, string password)
    {
        using var certificate = X509Certificate2.CreateFromPemFile(In("ca/n.crt"), In("ca/n.key"));
        File.WriteAllBytes(In(file), certificate.Export(X509ContentType.Pkcs12, password));
        return In(file);
    }

    /// <summary>Runs mesh-node to its exit (it is expected to refuse to start); kills it if it does not.</summary>
    private Task<ProcessResult> RunNode(string[] args) => Binaries.RunAsync(Binaries.Node, null, _nodes.WorkDir, args, TimeSpan.FromSeconds(60));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
