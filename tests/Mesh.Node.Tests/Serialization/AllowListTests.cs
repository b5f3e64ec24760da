using Akka.Actor;
using Akka.Configuration;
using Mesh.Node.Configuration;
using Mesh.Node.Serialization;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Serialization;

/// <summary>A type Mesh never sends: it must not be created from bytes off the network.</summary>
public sealed record NotOnTheList(string Payload);

public sealed class AllowListTests : IDisposable
{
    // Just the serialization part of the node's configuration: no cluster needed to test it.
    private readonly ActorSystem _system = ActorSystem.Create("serialization",
        ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = WARNING").WithFallback(NodeConfig.Embedded()));

    private object RoundTrip(object message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<MeshHyperionSerializer>(serializer);
        return serializer.FromBinary(serializer.ToBinary(message), message.GetType());
    }

    [Fact]
    public void The_attached_hosts_messages_cross_the_serializer_intact()
    {
        var head = new RevisionRecord("web", new HybridTimestamp(1_700_000_000_000, 3, "b"), new string('a', 64), 42, "ops@host", "b",
            "akka.tcp://mesh@127.0.0.1:1", DateTimeOffset.UnixEpoch, "why", new TargetSpec(["web"], new() { ["env"] = "prod" }, []), null);

        var attach = Assert.IsType<AttachHost>(RoundTrip(new AttachHost("h1", ["mesh-name:h1", "role:web"], "akka.tcp://mesh@10.0.0.9:4710", "abc")));
        Assert.Equal(["mesh-name:h1", "role:web"], attach.Identity);
        Assert.Equal(("h1", "akka.tcp://mesh@10.0.0.9:4710", "abc"), (attach.Name, attach.Address, attach.Heads));
        var state = Assert.IsType<AttachedState>(RoundTrip(new AttachedState("p1", "akka.tcp://mesh@10.0.0.1:4710", [head], [], [], true)));
        Assert.Equal(head.Version, Assert.Single(state.Heads).Version);
        Assert.True(state.Complete);
        Assert.Equal("p1", Assert.IsType<AttachedHostRecord>(RoundTrip(new AttachedHostRecord("h1", [], "a", "p1", DateTimeOffset.UnixEpoch))).Peer);
        Assert.Equal("why", Assert.IsType<AttachRefused>(RoundTrip(new AttachRefused("p1", "why"))).Reason);
        Assert.Equal("web", Assert.IsType<AttachedReportRemoved>(RoundTrip(new AttachedReportRemoved("h1", "web"))).Manifest);
    }

    [Fact]
    public void Mesh_wire_messages_cross_the_serializer_intact()
    {
        var record = new RevisionRecord("web", new HybridTimestamp(1_700_000_000_000, 3, "b"), new string('a', 64), 42, "ops@host", "b",
            "akka.tcp://mesh@127.0.0.1:1", DateTimeOffset.UnixEpoch, "why", new TargetSpec(["web"], new() { ["env"] = "prod" }, ["web-*"]), null);
        var report = new ApplyReport("n", "web", record.Version, record.Hash, ApplyOutcome.Failed, 1,
            [new ResourceResult("x", "file", ResourceAction.Failed, "boom", 3)], "x: boom", 7, DateTimeOffset.UnixEpoch);

        var r = Assert.IsType<RevisionRecord>(RoundTrip(record));
        Assert.Equal(record.Version, r.Version);
        Assert.Equal("prod", r.Target.Labels["env"]);
        Assert.Equal(["web-*"], r.Target.Nodes);

        var a = Assert.IsType<ApplyReport>(RoundTrip(report));
        Assert.Equal("boom", Assert.Single(a.Resources).Message);

        var chunk = Assert.IsType<ContentChunk>(RoundTrip(new ContentChunk(record.Hash, 0, 3, [1, 2, 3])));
        Assert.Equal([1, 2, 3], chunk.Data);
    }

    [Fact]
    public void Fact_targets_and_published_facts_cross_the_serializer_intact()
    {
        var target = ManifestParser.ParseTarget("{roles: [web], facts: {os: debian, \"memory_mb>=\": 4096}}");
        var record = new RevisionRecord("lb", new HybridTimestamp(1_700_000_000_000, 3, "b"), new string('a', 64), 42, "ops@host", "b",
            "akka.tcp://mesh@127.0.0.1:1", DateTimeOffset.UnixEpoch, "why", target, null);

        var r = Assert.IsType<RevisionRecord>(RoundTrip(record));
        Assert.Equal(["os=debian", "memory_mb>=4096"], r.Target.Facts.Select(f => f.ToString()));

        var facts = Assert.IsType<FactsRecord>(RoundTrip(new FactsRecord("web-1", "{\"os\":\"debian\"}", ["facts.d/x: exit 1"])));
        Assert.Equal("{\"os\":\"debian\"}", facts.Values);
        Assert.Equal(["facts.d/x: exit 1"], facts.Errors);
    }

    [Fact]
    public void Tasks_and_their_results_cross_the_serializer_intact()
    {
        var spec = new Mesh.Protocol.Tasks.TaskSpec("t1", ["uptime"], null, "{roles: [web]}", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(10),
            TimeSpan.FromSeconds(30), "nobody", "/tmp", 2, new() { ["PW"] = "mesh-sealed:v1:x" });
        var task = new Mesh.Protocol.Tasks.TaskRecord(spec, "ops@host", "a", new HybridTimestamp(1, 0, "a"), ["b", "c"], null, Cancelled: true, CancelledBy: "x");
        var t = Assert.IsType<Mesh.Protocol.Tasks.TaskRecord>(RoundTrip(task));
        Assert.Equal(spec.Statement(), t.Spec.Statement());
        Assert.Equal(["b", "c"], t.Targets);
        Assert.True(t.Cancelled);

        var result = new Mesh.Protocol.Tasks.TaskResult("t1", "b", "ok", DateTimeOffset.UnixEpoch, 0, TimeSpan.FromSeconds(2), "out", "err", true, null, DateTimeOffset.UnixEpoch);
        Assert.Equal(result, RoundTrip(result));
        var output = Assert.IsType<Mesh.Protocol.Tasks.TaskOutput>(RoundTrip(new Mesh.Protocol.Tasks.TaskOutput("t1", "b", true, "out", "err", result)));
        Assert.Equal(result, output.Result);
    }

    [Fact]
    public void A_type_outside_the_allow_list_is_refused_when_read()
    {
        // Bytes as a hostile peer would craft them: plain Hyperion, no filter on its side.
        var hostile = HostilePeer();
        using var stream = new MemoryStream();
        hostile.Serialize(new NotOnTheList("x"), stream);
        var serializer = _system.Serialization.FindSerializerFor(new RevisionRecord("m", new HybridTimestamp(1, 0, "n"), "", 0, "", "", "",
            DateTimeOffset.UnixEpoch, "", TargetSpec.All, null));

        var e = Assert.ThrowsAny<Exception>(() => serializer.FromBinary(stream.ToArray(), typeof(object)));
        Assert.Contains("Unsafe Type", e.ToString());
        Assert.Contains(nameof(NotOnTheList), e.ToString());
    }

    [Fact]
    public void A_type_outside_the_allow_list_is_not_even_sent()
    {
        var serializer = _system.Serialization.FindSerializerFor(new NotOnTheList("x"));
        Assert.ThrowsAny<Exception>(() => serializer.ToBinary(new NotOnTheList("x")));
    }

    [Fact]
    public void A_framework_type_outside_the_allow_list_is_refused_when_read()
    {
        var message = new Dictionary<string, object> { ["x"] = new Uri("http://example.org/") };
        var hostile = HostilePeer();
        using var stream = new MemoryStream();
        hostile.Serialize(message, stream);
        var serializer = _system.Serialization.FindSerializerFor(message);

        var e = Assert.ThrowsAny<Exception>(() => serializer.FromBinary(stream.ToArray(), typeof(object)));
        Assert.Contains("System.Uri", e.ToString());
    }

    [Theory]
    [InlineData("Mesh.Protocol.Wire.RevisionRecord, Mesh.Protocol", true)]
    [InlineData("System.Collections.Generic.Dictionary`2[[System.String, System.Private.CoreLib,%core%],[System.String, System.Private.CoreLib,%core%]], System.Private.CoreLib,%core%", true)]
    [InlineData("System.String[]", true)]
    [InlineData("System.IO.FileInfo, System.Private.CoreLib", false)]
    [InlineData("System.Diagnostics.Process, System.Diagnostics.Process", false)]
    [InlineData("Mesh.Node.Tests.Serialization.NotOnTheList, Mesh.Node.Tests", false)]
    [InlineData("No.Such.Type, No.Such.Assembly", false)]
    public void The_filter_decides_by_resolved_type(string name, bool allowed) =>
        Assert.Equal(allowed, MeshTypeFilter.Instance.IsAllowed(name));

    /// <summary>Plain Hyperion with no filter: the bytes a hostile peer could send.</summary>
    private static Hyperion.Serializer HostilePeer() => new(Hyperion.SerializerOptions.Default.WithPreserveObjectReferences(true).WithVersionTolerance(true));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
