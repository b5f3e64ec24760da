using Akka.Cluster;
using Mesh.Node.Security;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Mesh.Protocol.Security;

namespace Mesh.Node.Tests.Cluster;

/// <summary>Mutual TLS between nodes: who gets in (certificates of the fleet CA) and who does not.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TlsTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private readonly TestFleet _fleet = new();
    private readonly TestFleet _foreign = new("foreign CA");

    private static PushRequest Push(string name) =>
        new([new ManifestFile($"{name}.yaml", $"manifest: {name}\nresources:\n  - {{ id: f, type: file, path: /{name}, content: \"{name}\\n\" }}\n")], "test", "tester");

    private static Task<NodeStatus> AppliedOk(MeshNode observer, string node, string manifest) =>
        Eventually.Value(async () => (await observer.Queries.StatusAsync(manifest)).Manifests.FirstOrDefault(s => s.Node == node && s.State == "ok"),
            $"{node} applied {manifest} (seen from {observer.Settings.Name})");

    private static bool Lists(MeshNode observer, string name) =>
        observer.Queries.Members().Any(m => m.Name == name);

    [Fact]
    public async Task Nodes_with_certificates_of_the_fleet_CA_form_a_mesh_over_TLS_and_a_push_applies_on_each()
    {
        var a = _mesh.Start("a", extraHocon: _fleet.Hocon("a"));
        var b = _mesh.Start("b", extraHocon: _fleet.HoconPfx("b", "s3cret pass"));
        await _mesh.Converged();

        Assert.Equal("akka.ssl.tcp", a.Cluster.SelfAddress.Protocol);
        Assert.All([a, b], n => Assert.Equal(["a", "b"], n.Queries.Members().Select(m => m.Name).Order()));
        await b.Revisions.PushAsync(Push("over-tls"));
        await AppliedOk(b, "a", "over-tls");
        await AppliedOk(a, "b", "over-tls");
        Assert.Equal("over-tls\n", File.ReadAllText(_mesh.RootOf(a, "/over-tls")));
        Assert.Equal("over-tls\n", File.ReadAllText(_mesh.RootOf(b, "/over-tls")));
    }

    [Fact]
    public async Task A_node_with_a_certificate_of_another_CA_is_refused_again_and_again_and_the_others_keep_working()
    {
        var a = _mesh.Start("a", extraHocon: _fleet.Hocon("a"));
        var b = _mesh.Start("b", extraHocon: _fleet.Hocon("b"));
        await _mesh.Converged();
        var refusals = new LogWatch(a.System);

        // The intruder knows the fleet CA's certificate (it is no secret), so it accepts the
        // members' certificates; its own is signed by another CA.
        var bothCas = _foreign["both-ca.crt"];
        File.WriteAllText(bothCas, File.ReadAllText(_foreign.AuthorityFile) + File.ReadAllText(_fleet.AuthorityFile));
        MeshNode? intruder = null;
        try
        {
            intruder = _mesh.Start("intruder", seed: a, extraHocon: _foreign.Hocon("intruder", bothCas));
        }
        catch (NodeStoppedException e)
        {
            // Stopped by its own side of a refused handshake before its parts were all made (the join starts first).
            Assert.Contains("a TLS handshake with a peer failed", e.Message);
        }

        // Every join attempt is refused at the TLS handshake: meanwhile no node ever lists it, and
        // it never counts itself up. It keeps trying, unless its own side of a handshake saw the
        // refusal (with TLS 1.3 the client learns of a refused certificate only sometimes before
        // its handshake completes): then Akka stops it, as it stops any node whose handshake
        // fails. Counted by a's own certificate check, not its log: the transport's log line may
        // land in whichever actor system of this test process its logger belongs to.
        bool Stopped() => intruder is null || (intruder.System.WhenTerminated.IsCompleted && NodeTls.StoppedByHandshake(intruder));
        try
        {
            await Eventually.True(() =>
                {
                    Assert.False(Lists(a, "intruder") || Lists(b, "intruder"), "the intruder became a member");
                    return a.Tls!.Refusals >= 2 || (a.Tls.Refusals >= 1 && Stopped());
                }, "a refuses the intruder's certificate twice, or once and the intruder stops", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}: {a.Tls!.Refusals} refusal(s), the last: {a.Tls.LastRefusal}; " +
                $"intruder terminated: {intruder?.System.WhenTerminated.IsCompleted ?? true}; a's warnings:\n{string.Join("\n", refusals.Warnings)}", e);
        }
        Assert.Contains("CN=intruder", a.Tls!.LastRefusal);
        Assert.Contains("is not signed by the fleet CA (CN=test fleet CA", a.Tls.LastRefusal);
        Assert.All(refusals.Warnings.Where(w => w.Contains("TLS: refused peer")), w => Assert.Contains("CN=intruder", w));
        if (intruder is not null) Assert.DoesNotContain(intruder.Cluster.State.Members, m => m.Status == MemberStatus.Up);
        // A node that is still running is one that keeps trying.
        if (!Stopped()) Assert.False(intruder!.System.WhenTerminated.IsCompleted);

        await a.Revisions.PushAsync(Push("after-intruder"));
        await AppliedOk(a, "b", "after-intruder");
        await AppliedOk(b, "a", "after-intruder");
        Assert.All([a, b], n => Assert.Equal(["a", "b"], n.Queries.Members().Select(m => m.Name).Order()));
        Assert.False(intruder is not null && File.Exists(_mesh.RootOf(intruder, "/after-intruder")));
    }

    [Fact]
    public async Task A_node_that_trusts_only_its_own_self_signed_certificate_never_joins_and_stops()
    {
        var a = _mesh.Start("a", extraHocon: _fleet.Hocon("a"));
        var b = _mesh.Start("b", extraHocon: _fleet.Hocon("b"));
        await _mesh.Converged();

        // A certificate that is its own CA: the node's own check passes, every member refuses it,
        // and it refuses every member; Akka stops a node whose outbound TLS handshake fails.
        var self = FleetCertificates.CreateAuthority("loner", TimeSpan.FromDays(1));
        var (crt, key) = _foreign.WritePem("loner", self);
        MeshNode? loner = null;
        try
        {
            loner = _mesh.Start("loner", seed: a, extraHocon: $"mesh.tls {{ certificate = \"{crt}\", key = \"{key}\", ca = \"{crt}\" }}");
        }
        catch (NodeStoppedException e)
        {
            // The join starts first: Akka can stop the node before its own parts are all made. It says why.
            Assert.Contains("a TLS handshake with a peer failed", e.Message);
        }

        await Eventually.True(() =>
        {
            Assert.False(Lists(a, "loner") || Lists(b, "loner"), "the self-signed node became a member");
            return loner is null || loner.System.WhenTerminated.IsCompleted;
        }, "the self-signed node stops", TimeSpan.FromSeconds(30));
        await a.Revisions.PushAsync(Push("after-loner"));
        await AppliedOk(a, "b", "after-loner");
        Assert.All([a, b], n => Assert.Equal(["a", "b"], n.Queries.Members().Select(m => m.Name).Order()));
    }

    [Fact]
    public void A_node_says_at_start_which_certificate_it_uses_and_warns_when_it_ends_within_30_days()
    {
        // Test certificates last a day.
        var a = _mesh.Start("a", extraHocon: _fleet.Hocon("a"));
        var output = new StringWriter();
        var error = new StringWriter();

        NodeTls.Announce(a, output, error);

        Assert.StartsWith("mesh-node a: TLS between nodes, mutual: certificate CN=a (SHA-256 ", output.ToString());
        Assert.Contains("peers must present a certificate signed by CN=test fleet CA, SHA-256 ", output.ToString());
        Assert.Matches(@"^mesh-node a: warning: this node's certificate expires in [01] day\(s\), on ", error.ToString());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        _fleet.Dispose();
        _foreign.Dispose();
    }
}
