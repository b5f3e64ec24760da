using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.DistributedData;
using Akka.DistributedData.Durable;
using Mesh.Node.Replication;
using Mesh.Node.Tests.Support;

namespace Mesh.Node.Tests.Replication;

/// <summary>
/// What the durable store writes when: a write the replicator waits for (what an acknowledged
/// change is made of) is on disk before its answer and takes everything queued with it; one it
/// does not wait for (what peers told this node) is written behind, and before the store stops.
/// </summary>
public sealed class DurableStoreTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private ActorSystem _system = null!;

    private static readonly UniqueAddress Writer = new(new Address("akka.tcp", "mesh", "10.0.0.1", 4710), 7);

    private static DurableDataEnvelope Counter(int n) => new(GCounter.Empty.Increment(Writer, (ulong)n));

    private IActorRef StartStore(string writeBehind) => _system.ActorOf(Props.Create(() => new DurableStore(
        ConfigurationFactory.ParseString($"mesh.dir = \"{_dir.Path}\"\nmesh.write-behind = {writeBehind}"))));

    private bool OnDisk(string key) => File.Exists(_dir[key]);

    [Fact]
    public async Task A_write_nobody_waits_for_waits_for_the_next_flush_and_one_that_is_waited_for_is_on_disk_when_answered()
    {
        var store = StartStore("1h");

        store.Tell(new Store("mesh-learned", Counter(1)));
        // The store answers LoadAll once the write before it was handled: nothing is on disk yet.
        await store.Ask<object>(LoadAll.Instance, TimeSpan.FromSeconds(10));
        Assert.False(OnDisk("mesh-learned"));

        var answer = await store.Ask<string>(
            new Func<IActorRef, object>(replyTo => new Store("mesh-made-here", Counter(2), new StoreReply("stored", "failed", replyTo))),
            TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal("stored", answer);
        Assert.True(OnDisk("mesh-made-here"));
        Assert.True(OnDisk("mesh-learned"));
    }

    [Fact]
    public async Task A_write_nobody_waits_for_is_written_within_the_write_behind_window_and_before_the_store_stops()
    {
        var soon = StartStore("100ms");
        soon.Tell(new Store("mesh-soon", Counter(1)));
        await Eventually.True(() => OnDisk("mesh-soon"), "the write behind reaches the disk on its own");

        var late = StartStore("1h");
        late.Tell(new Store("mesh-at-stop", Counter(3)));
        await late.Ask<object>(LoadAll.Instance, TimeSpan.FromSeconds(10));
        Assert.False(OnDisk("mesh-at-stop"));
        await late.GracefulStop(TimeSpan.FromSeconds(10));
        Assert.True(OnDisk("mesh-at-stop"));

        // What was written loads again.
        var again = StartStore("1h");
        var loaded = await again.Ask<LoadData>(LoadAll.Instance, TimeSpan.FromSeconds(10));
        Assert.Equal("3", ((GCounter)loaded.Data["mesh-at-stop"].Data).Value.ToString());
    }

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("durable-store-test", ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            akka.loglevel = WARNING
            """).WithFallback(DistributedData.DefaultConfig()));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        _dir.Dispose();
    }
}
