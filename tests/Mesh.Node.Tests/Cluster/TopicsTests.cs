using System.Collections.Concurrent;
using Akka.Actor;
using Mesh.Node.Replication;
using Mesh.Node.Tests.Support;

namespace Mesh.Node.Tests.Cluster;

/// <summary>
/// The fast path (<see cref="Topics"/>): what a node publishes reaches the subscribers on every
/// member, including one that subscribed a moment before and one that joined a moment before:
/// the membership is the registry, with nothing to spread first. The messages here are in no
/// replicated key, so only the topics can have carried them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TopicsTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    /// <summary>Collects what its node's topics actor hands it.</summary>
    private sealed class Collector : ReceiveActor
    {
        public Collector(ConcurrentQueue<string> received) => Receive<string>(received.Enqueue);
    }

    private static ConcurrentQueue<string> Subscribe(MeshNode node, string topic)
    {
        var received = new ConcurrentQueue<string>();
        var collector = node.System.ActorOf(Props.Create(() => new Collector(received)));
        node.Topics.Tell(new Topics.Subscribe(topic, collector));
        return received;
    }

    [Fact]
    public async Task A_message_published_as_the_mesh_forms_reaches_every_member_subscribed_and_no_other_topic()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        var c = _mesh.Start("c");
        await _mesh.Converged();
        var heard = _mesh.Nodes.ToDictionary(n => n.Settings.Name, n => Subscribe(n, "test.topic"));
        var other = Subscribe(c, "test.other");
        // Subscribed a moment ago, published at once: Akka's pub-sub would not yet know b's and
        // c's subscriptions and would drop the message for them.
        b.Topics.Tell(new Topics.Publish("test.topic", "hello"));

        foreach (var (name, queue) in heard)
            await Eventually.True(() => queue.Contains("hello"), $"{name} heard what b published");
        c.Topics.Tell(new Topics.Publish("test.other", "marker"));
        await Eventually.True(() => other.Contains("marker"), "c heard its other topic");
        Assert.Equal(["marker"], other);
        Assert.All(heard.Values, queue => Assert.Equal(["hello"], queue));
    }

    [Fact]
    public async Task A_member_that_just_joined_hears_the_next_message()
    {
        var a = _mesh.Start("a");
        _mesh.Start("b");
        await _mesh.Converged();
        var c = _mesh.Start("c");
        await _mesh.Converged();
        var atC = Subscribe(c, "test.topic");
        a.Topics.Tell(new Topics.Publish("test.topic", "first"));
        await Eventually.True(() => atC.Contains("first"), "c, which just joined, heard what a published");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
