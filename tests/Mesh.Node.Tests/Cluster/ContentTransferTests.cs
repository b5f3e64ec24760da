using Akka.Actor;
using Mesh.Node.Content;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
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
