using Akka.Actor;
using Mesh.Node.Content;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class ContentTransferTests : IAsyncLifetime
{
    private const string FastGiveUp = "mesh.content.fetch-timeout = 1s";
    private readonly TestMesh _mesh = new();

    private static byte[] RandomBody(int size)
    {
        var body = new byte[size];
        new Random(size).NextBytes(body);
        return body;
    }

    [Fact]
    public async Task A_10_MB_body_is_pulled_from_a_peer_in_chunks_and_checked_against_its_hash()
    {
        var holder = _mesh.Start("holder");
        var puller = _mesh.Start("puller");
        await _mesh.Converged();
        var body = RandomBody(10 * 1024 * 1024);
        var hash = holder.Content.Put(body);

        var fetched = await puller.Fetcher.FetchAsync(hash, [holder.Cluster.SelfAddress]);

        Assert.Equal(hash, CanonicalForm.Hash(fetched));
        Assert.True(puller.Content.Contains(hash));
        Assert.Equal(body.Length, puller.Content.SizeOf(hash));
    }

    [Fact]
    public async Task When_a_peer_dies_mid_transfer_the_pull_resumes_from_another_peer()
    {
        var dying = _mesh.Start("dying", extraHocon: FastGiveUp);
        var spare = _mesh.Start("spare", extraHocon: FastGiveUp);
        var puller = _mesh.Start("puller", extraHocon: FastGiveUp);
        await _mesh.Converged();
        var body = RandomBody(4 * 1024 * 1024);
        var hash = dying.Content.Put(body);
        spare.Content.Put(body);
        var served = await ReplaceContentServer(dying, Props.Create(() => new DyingServer(dying.Content, 8)));

        var fetched = await puller.Fetcher.FetchAsync(hash, [dying.Cluster.SelfAddress, spare.Cluster.SelfAddress]);

        Assert.Equal(hash, CanonicalForm.Hash(fetched));
        Assert.True(served.Count >= 8, "the dying peer served part of the body before it died");
        // Terminate() was called mid-transfer; shutting down completes on its own time.
        await dying.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_peer_that_serves_corrupt_bytes_is_caught_by_the_hash_and_another_peer_is_used()
    {
        var liar = _mesh.Start("liar", extraHocon: FastGiveUp);
        var honest = _mesh.Start("honest", extraHocon: FastGiveUp);
        var puller = _mesh.Start("puller", extraHocon: FastGiveUp);
        await _mesh.Converged();
        var body = RandomBody(300_000);
        var hash = honest.Content.Put(body);
        await ReplaceContentServer(liar, Props.Create(() => new LyingServer(body)));

        var fetched = await puller.Fetcher.FetchAsync(hash, [liar.Cluster.SelfAddress, honest.Cluster.SelfAddress]);

        Assert.Equal(body, fetched);
    }

    [Fact]
    public async Task When_no_peer_has_the_body_the_error_says_who_was_asked()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();

        var e = await Assert.ThrowsAsync<BlobUnavailableException>(() => b.Fetcher.FetchAsync(new string('0', 64), [a.Cluster.SelfAddress]));
        Assert.Contains(a.Cluster.SelfAddress.ToString(), e.Message);
        Assert.Contains("does not have it", e.Message);
    }

    /// <summary>
    /// An origin and six members, two members per node in the relay tree: m1 and m2 pull from the
    /// origin, m3 and m4 from m1, m5 and m6 from m2. A generous fetch timeout: a relay that is slow on
    /// a busy machine is waited for, so the bytes each node served are exact.
    /// </summary>
    private (MeshNode Origin, MeshNode[] Members) RelayMesh()
    {
        const string Settings = "mesh.content.hold-fan-out = 2\nmesh.content.fetch-timeout = 30s";
        var origin = _mesh.Start("origin", extraHocon: Settings);
        return (origin, Enumerable.Range(1, 6).Select(i => _mesh.Start($"m{i}", extraHocon: Settings)).ToArray());
    }

    private static (string, Address)[] Named(IEnumerable<MeshNode> nodes) => nodes.Select(n => (n.Settings.Name, n.Cluster.SelfAddress)).ToArray();

    [Fact]
    public async Task A_body_six_members_hold_is_relayed_down_a_tree_so_the_origin_sends_it_only_fan_out_times()
    {
        var (origin, members) = RelayMesh();
        await _mesh.Converged();
        var body = RandomBody(3 * 1024 * 1024);
        var hash = origin.Content.Put(body);
        var holders = new ContentHolders(origin.System, origin.Cluster.SelfAddress.ToString(), fanOut: 2);

        var outcome = await holders.HoldAsync([hash], Named(members), needed: members.Length, DateTimeOffset.UtcNow.AddSeconds(90));

        Assert.Equal(members.Select(m => m.Settings.Name).Order(), outcome.HeldBy.Order());
        Assert.All(members, m => Assert.Equal(body, m.Content.Get(hash)));
        Assert.Equal(2.0 * body.Length, origin.Metrics.ServedBytes);
        Assert.Equal(2.0 * body.Length, members[0].Metrics.ServedBytes);
        Assert.Equal(2.0 * body.Length, members[1].Metrics.ServedBytes);
        Assert.All(members[2..], m => Assert.Equal(0.0, m.Metrics.ServedBytes));
    }

    [Fact]
    public async Task Members_below_a_relay_that_serves_nothing_pull_from_the_origin_instead()
    {
        var (origin, members) = RelayMesh();
        await _mesh.Converged();
        var body = RandomBody(1024 * 1024);
        var hash = origin.Content.Put(body);
        // m1 holds what it is asked to, but its content server answers every chunk request "missing".
        var m1 = members[0];
        await ReplaceContentServer(m1, Props.Create(() => new HoldOnlyServer(m1)));
        var holders = new ContentHolders(origin.System, origin.Cluster.SelfAddress.ToString(), fanOut: 2);

        var outcome = await holders.HoldAsync([hash], Named(members), needed: members.Length, DateTimeOffset.UtcNow.AddSeconds(90));

        Assert.Equal(members.Length, outcome.HeldBy.Length);
        Assert.All(members, m => Assert.Equal(body, m.Content.Get(hash)));
        // m1, m2 and m1's two: four times from the origin; m2 still relays to its two.
        Assert.Equal(4.0 * body.Length, origin.Metrics.ServedBytes);
        Assert.Equal(2.0 * body.Length, members[1].Metrics.ServedBytes);
    }

    [Theory]
    [InlineData(0, 3, null)]
    [InlineData(2, 3, null)]
    [InlineData(3, 3, 0)]
    [InlineData(5, 3, 0)]
    [InlineData(6, 3, 1)]
    [InlineData(11, 3, 2)]
    [InlineData(12, 3, 3)]
    [InlineData(1, 1, 0)]
    public void Each_member_pulls_from_the_node_above_it_in_the_tree(int index, int fanOut, int? source) =>
        Assert.Equal(source, ContentHolders.SourceOf(index, fanOut));

    private static PushRequest PushFor(string target, string content) => new(
        [new ManifestFile("motd.yaml", $"manifest: motd\ntarget: {{ nodes: [{target}] }}\nresources:\n  - {{ id: motd, type: file, path: /motd, content: \"{content}\" }}\n")],
        "test", "tester");

    /// <summary>The report <paramref name="node"/> published for the head of motd, once it has one with this outcome (what it published last).</summary>
    private static Task<ApplyReport> ReportOf(MeshNode node, HybridTimestamp version, ApplyOutcome outcome, TimeSpan? timeout = null) =>
        Eventually.Value(async () => (await node.Store.ReportsOfAsync(node.Settings.Name)).GetValueOrDefault("motd") is { } r
            && r.Version.Equals(version) && r.Outcome == outcome ? r : null, $"{node.Settings.Name} to report motd {version} {outcome}", timeout);

    private static string[] AuditKinds(MeshNode node) => node.Audit.Read(null, 1000).Where(e => e.Manifest == "motd").Select(e => e.Kind).ToArray();

    [Fact]
    public async Task A_target_whose_origin_stalls_reports_pending_with_the_reason_and_applies_once_the_origin_answers()
    {
        var origin = _mesh.Start("origin", extraHocon: FastGiveUp);
        var target = _mesh.Start("target", extraHocon: FastGiveUp);
        await _mesh.Converged();
        var gate = new Gate(GateMode.Stall);
        await ReplaceContentServer(origin, Props.Create(() => new GatedServer(origin.Content, gate)));

        var pushed = (await origin.Revisions.PushAsync(PushFor("target", "slow"))).Revisions.Single().Revision;

        var pending = await ReportOf(target, pushed.Version, ApplyOutcome.Pending);
        Assert.Contains($"origin {origin.Cluster.SelfAddress} did not answer within 1s", pending.Error);
        Assert.Contains("retrying until", pending.Error);
        Assert.Equal("pending", (await origin.Queries.StatusAsync("motd")).Manifests.Single(s => s.Node == "target").State);

        gate.Open();
        await ReportOf(target, pushed.Version, ApplyOutcome.Ok, TimeSpan.FromSeconds(60));
        Assert.Equal("slow", File.ReadAllText(_mesh.RootOf(target, "/motd")));
        Assert.DoesNotContain("failed", AuditKinds(target));
        Assert.Contains("pending", AuditKinds(target));
    }

    [Fact]
    public async Task When_no_peer_has_the_body_yet_the_target_waits_and_applies_it_once_one_has_it_without_a_failed_report()
    {
        var origin = _mesh.Start("origin", extraHocon: FastGiveUp);
        var target = _mesh.Start("target", extraHocon: FastGiveUp);
        var spare = _mesh.Start("spare", extraHocon: FastGiveUp);
        await _mesh.Converged();
        await ReplaceContentServer(origin, Props.Create(() => new GatedServer(origin.Content, new Gate(GateMode.Missing))));

        var pushed = (await origin.Revisions.PushAsync(PushFor("target", "late"))).Revisions.Single().Revision;

        var pending = await ReportOf(target, pushed.Version, ApplyOutcome.Pending);
        // The origin says it lacks the body, or (on a busy machine) does not answer in time: either way no one has it yet.
        Assert.Matches($"origin {System.Text.RegularExpressions.Regex.Escape(origin.Cluster.SelfAddress.ToString())} (does not have it|did not answer within)", pending.Error);
        Assert.Matches("1 peer (does not have it yet|did not answer in time)", pending.Error);

        // Another peer gets the body (as a node that pulled it would).
        spare.Content.Put(origin.Content.Get(pushed.Hash)!);
        await ReportOf(target, pushed.Version, ApplyOutcome.Ok, TimeSpan.FromSeconds(60));
        Assert.Equal("late", File.ReadAllText(_mesh.RootOf(target, "/motd")));
        Assert.DoesNotContain("failed", AuditKinds(target));
    }

    [Fact]
    public async Task A_body_nobody_gives_before_the_fetch_deadline_is_failed_naming_the_deadline()
    {
        var origin = _mesh.Start("origin", extraHocon: FastGiveUp);
        var target = _mesh.Start("target", extraHocon: FastGiveUp + "\nmesh.content.fetch-deadline = 3s");
        await _mesh.Converged();
        await ReplaceContentServer(origin, Props.Create(() => new GatedServer(origin.Content, new Gate(GateMode.Missing))));

        var pushed = (await origin.Revisions.PushAsync(PushFor("target", "never"))).Revisions.Single().Revision;

        var failed = await ReportOf(target, pushed.Version, ApplyOutcome.Failed, TimeSpan.FromSeconds(60));
        Assert.Contains("fetch deadline of 3s", failed.Error);
        // The origin says it lacks the body, or (on a busy machine) does not answer in time.
        Assert.Matches("does not have it|did not answer within", failed.Error);
        // Pending while it waited, failed once when the deadline passed.
        var kinds = AuditKinds(target);
        Assert.True(Array.IndexOf(kinds, "pending") >= 0 && Array.IndexOf(kinds, "pending") < Array.IndexOf(kinds, "failed"), string.Join(", ", kinds));
        Assert.Single(kinds, k => k == "failed");
    }

    /// <summary>Swaps a node's content server for a test double under the same name; returns its chunk counter.</summary>
    private static async Task<Counter> ReplaceContentServer(MeshNode node, Props replacement)
    {
        var current = await node.System.ActorSelection(ContentServer.Path).ResolveOne(TimeSpan.FromSeconds(5));
        await current.GracefulStop(TimeSpan.FromSeconds(5));
        var counter = new Counter();
        // The guardian frees the name once it has processed the stop; until then ActorOf refuses it.
        IActorRef? server = null;
        await Eventually.True(() =>
        {
            try
            {
                server = node.System.ActorOf(replacement, ContentServer.Name);
                return true;
            }
            catch (InvalidActorNameException)
            {
                return false;
            }
        }, "the content server's name to be free");
        server!.Tell(counter);
        return counter;
    }

    public sealed class Counter
    {
        private int _count;
        public int Count => Volatile.Read(ref _count);
        public void Increment() => Interlocked.Increment(ref _count);
    }

    /// <summary>Serves a few chunks, then takes its whole node down, as a crashing host would.</summary>
    private sealed class DyingServer : ReceiveActor
    {
        public DyingServer(ContentStore store, int chunksBeforeDeath)
        {
            Counter? counter = null;
            Receive<Counter>(c => counter = c);
            Receive<FetchChunk>(request =>
            {
                if (counter!.Count >= chunksBeforeDeath)
                {
                    Context.System.Terminate();
                    return;
                }
                counter.Increment();
                var (data, total) = store.Read(request.Hash, request.Offset, request.Length)!.Value;
                Sender.Tell(new ContentChunk(request.Hash, request.Offset, total, data));
            });
        }
    }

    private enum GateMode { Stall, Missing }

    /// <summary>Whether a <see cref="GatedServer"/> serves yet, set from the test.</summary>
    private sealed class Gate(GateMode closed)
    {
        private volatile bool _open;
        public GateMode Closed => closed;
        public bool IsOpen => _open;
        public void Open() => _open = true;
    }

    /// <summary>Until its gate opens, stays silent (a busy origin) or says it lacks the blob; then serves as the real server does.</summary>
    private sealed class GatedServer : ReceiveActor
    {
        public GatedServer(ContentStore store, Gate gate)
        {
            Receive<Counter>(_ => { });
            Receive<FetchChunk>(request =>
            {
                if (!gate.IsOpen)
                {
                    if (gate.Closed == GateMode.Missing) Sender.Tell(new ContentMissing(request.Hash));
                    return;
                }
                var (data, total) = store.Read(request.Hash, request.Offset, request.Length)!.Value;
                Sender.Tell(new ContentChunk(request.Hash, request.Offset, total, data));
            });
        }
    }

    /// <summary>Holds what it is asked to hold (pulling from the origin) but answers every chunk request "missing".</summary>
    private sealed class HoldOnlyServer : ReceiveActor
    {
        public HoldOnlyServer(MeshNode node)
        {
            Receive<Counter>(_ => { });
            Receive<FetchChunk>(request => Sender.Tell(new ContentMissing(request.Hash)));
            Receive<HoldContent>(request => HoldAsync(node, request).PipeTo(Sender));
        }

        private static async Task<object> HoldAsync(MeshNode node, HoldContent request)
        {
            foreach (var hash in request.Hashes) await node.Fetcher.FetchAsync(hash, [Address.Parse(request.Origin ?? request.From)]);
            return new ContentHeld(request.Hashes, node.Settings.Name);
        }
    }

    /// <summary>Serves the right size with the wrong bytes.</summary>
    private sealed class LyingServer : ReceiveActor
    {
        public LyingServer(byte[] body)
        {
            Receive<Counter>(_ => { });
            Receive<FetchChunk>(request =>
            {
                var length = (int)Math.Min(request.Length, body.Length - request.Offset);
                Sender.Tell(new ContentChunk(request.Hash, request.Offset, body.Length, new byte[length]));
            });
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
