using Akka.Actor;
using Akka.Configuration;
using Mesh.Node.Attached;
using Mesh.Node.Configuration;
using Mesh.Node.Facts;
using Mesh.Node.Membership;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Attached;

/// <summary>The parts of attached hosts that need no cluster: settings, the heads' digest, the heads kept on disk, the registry's view.</summary>
public sealed class AttachedPartsTests
{
    private static NodeSettings Settings(string over) =>
        NodeSettings.From(ConfigurationFactory.ParseString("mesh.name = h\n" + over).WithFallback(NodeConfig.Embedded()));

    private static RevisionRecord Head(string manifest, long wall, string node = "a", bool deleted = false, TargetSpec? target = null) =>
        new(manifest, new HybridTimestamp(wall, 0, node), new string('b', 64), 10, "ops", node, $"akka.tcp://mesh@127.0.0.1:{wall % 1000}",
            DateTimeOffset.UnixEpoch, "why", target ?? TargetSpec.All, null, Deleted: deleted);

    [Fact]
    public void A_member_by_default_and_an_attached_host_with_contacts_as_cluster_addresses()
    {
        var member = Settings("").Attached;
        Assert.False(member.IsHost);
        Assert.False(member.Serve);
        Assert.Equal(TimeSpan.FromSeconds(30), member.KeepAlive);

        var host = Settings("mesh.attach = [\"10.0.0.1:4710\", \"akka.tcp://mesh@10.0.0.2:4710\"]").Attached;
        Assert.True(host.IsHost);
        Assert.Equal(["akka.tcp://mesh@10.0.0.1:4710", "akka.tcp://mesh@10.0.0.2:4710"], host.Contacts);
        Assert.True(Settings("mesh.attached.serve = on").Attached.Serve);
    }

    [Fact]
    public void Attaching_and_joining_or_serving_at_once_or_a_malformed_contact_is_a_configuration_error_naming_it()
    {
        var both = Assert.Throws<ConfigurationException>(() => Settings("mesh.attach = [\"10.0.0.1:4710\"]\nmesh.seeds = [\"10.0.0.2:4710\"]"));
        Assert.Contains("mesh.attach and mesh.seeds", both.Message);
        var serving = Assert.Throws<ConfigurationException>(() => Settings("mesh.attach = [\"10.0.0.1:4710\"]\nmesh.attached.serve = on"));
        Assert.Contains("mesh.attached.serve", serving.Message);
        Assert.Contains("--attach = 'nowhere': expected HOST:PORT", Assert.Throws<ConfigurationException>(() => Settings("mesh.attach = [\"nowhere\"]")).Message);
        Assert.Contains("mesh.attached.keep-alive", Assert.Throws<ConfigurationException>(() => Settings("mesh.attached.keep-alive = 1ms")).Message);
    }

    [Fact]
    public void The_digest_of_heads_is_the_same_for_the_same_heads_in_any_order_and_differs_for_any_other_version_or_a_tombstone()
    {
        var heads = new[] { Head("web", 1000), Head("db", 2000), Head("motd", 3000) };
        var digest = AttachedState.DigestOf(heads);

        Assert.Equal(digest, AttachedState.DigestOf(heads.Reverse()));
        Assert.NotEqual(digest, AttachedState.DigestOf([heads[0], heads[1], Head("motd", 3001)]));
        Assert.NotEqual(digest, AttachedState.DigestOf([heads[0], heads[1], Head("motd", 3000, deleted: true)]));
        Assert.NotEqual(digest, AttachedState.DigestOf(heads.Take(2)));
        Assert.NotEqual(AttachedState.DigestOf([]), digest);
    }

    [Fact]
    public void The_heads_kept_on_disk_come_back_whole_and_an_unreadable_file_reads_as_none()
    {
        using var dir = new TempDir();
        var file = new HeadsFile(dir["attached/heads.json"]);
        Assert.Empty(file.Load());
        var target = new TargetSpec(["web"], new() { ["env"] = "prod" }, ["web-*"]) { Facts = [new FactCondition("os", FactOperator.Equal, "debian")] };
        var heads = new[] { Head("web", 1_700_000_000_000, target: target), Head("gone", 1_700_000_000_001, deleted: true) };

        file.Save(heads);
        var loaded = file.Load();

        Assert.Equal(2, loaded.Count);
        var web = loaded.Single(h => h.Manifest == "web");
        Assert.Equal(heads[0].Version, web.Version);
        Assert.Equal(heads[0].Hash, web.Hash);
        Assert.Equal(heads[0].OriginAddress, web.OriginAddress);
        Assert.Equal(["web"], web.Target.Roles);
        Assert.Equal("prod", web.Target.Labels["env"]);
        Assert.Equal(["web-*"], web.Target.Nodes);
        Assert.Equal(target.Facts, web.Target.Facts);
        Assert.True(loaded.Single(h => h.Manifest == "gone").Deleted);
        Assert.False(File.Exists(dir["attached/heads.json.new"]));

        File.WriteAllText(dir["attached/heads.json"], "[{\"manifest\": \"web\", ");
        Assert.Empty(file.Load());
    }

    [Fact]
    public void The_registry_gives_targets_the_attached_hosts_identities_and_members_lists_them_with_their_peer()
    {
        var fleet = new FleetView(new NodeFacts("a", [], new Dictionary<string, string>(), new System.Text.Json.Nodes.JsonObject()));
        var identity = NodeRoles.Encode("h1", ["web"], new Dictionary<string, string> { ["env"] = "prod" }, [1, 2, 3]).ToArray();
        fleet.Attached = [new AttachedHostRecord("h1", identity, "akka.tcp://mesh@10.0.0.9:4710", "b", DateTimeOffset.UnixEpoch)];

        var h1 = Assert.Single(fleet.AttachedIdentities);
        Assert.Equal("h1", h1.Name);
        Assert.Contains("web", h1.Roles);
        Assert.Equal("prod", h1.Labels["env"]);
        Assert.True(new TargetSpec(["web"], [], []).Matches(h1));
        var listed = Members.Describe(fleet.Attached[0]);
        Assert.Equal(("h1", "attached", "b", "akka.tcp://mesh@10.0.0.9:4710"), (listed.Name, listed.Status, listed.Peer, listed.Address));
        Assert.Equal(Convert.ToBase64String([1, 2, 3]), listed.Key);
    }

    [Fact]
    public void A_host_pulls_a_body_from_the_host_above_it_first_then_its_peer_then_the_origin_then_its_other_contacts()
    {
        var status = new AttachedStatus();
        string[] contacts = ["akka.tcp://mesh@10.0.0.1:4710", "akka.tcp://mesh@10.0.0.2:4710"];
        var origin = "akka.tcp://mesh@10.0.0.7:4710";
        var head = Head("web", 1000) with { OriginAddress = origin, Hash = new string('c', 64) };
        Assert.Equal(contacts.Prepend(origin).Select(Address.Parse), status.PeersFor(head, contacts));

        Assert.Equal("", status.Attach("p2", contacts[1]));
        Assert.Null(status.Attach("p2", contacts[1]));
        Assert.Equal(new[] { contacts[1], origin, contacts[0] }.Select(Address.Parse), status.PeersFor(head, contacts));

        status.Relay(new Dictionary<string, string> { [head.Hash] = "akka.tcp://mesh@10.0.3.4:4710" });
        Assert.Equal(new[] { "akka.tcp://mesh@10.0.3.4:4710", contacts[1], origin, contacts[0] }.Select(Address.Parse), status.PeersFor(head, contacts));
        // Another body: no relay for it.
        Assert.Equal(new[] { contacts[1], origin, contacts[0] }.Select(Address.Parse), status.PeersFor(head with { Hash = new string('d', 64) }, contacts));
        Assert.Equal("p2", status.Attach("p1", contacts[0]));
    }

    [Fact]
    public void A_host_relays_unless_it_listens_on_loopback_while_its_core_is_elsewhere()
    {
        Assert.True(AttachedNode.ServesOthers(Settings("mesh.host = \"10.0.3.4\"\nmesh.attach = [\"10.0.0.1:4710\"]")));
        Assert.False(AttachedNode.ServesOthers(Settings("mesh.attach = [\"10.0.0.1:4710\"]")));
        Assert.True(AttachedNode.ServesOthers(Settings("mesh.attach = [\"127.0.0.1:4710\"]")));
        Assert.True(AttachedNode.ServesOthers(Settings("mesh.host = \"0.0.0.0\"\nmesh.public-host = \"10.0.3.4\"\nmesh.attach = [\"10.0.0.1:4710\"]")));
    }
}
