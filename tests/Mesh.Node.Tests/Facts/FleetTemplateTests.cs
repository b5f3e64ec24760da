using System.Text.Json.Nodes;
using Mesh.Node.Facts;
using Mesh.Node.Providers;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Facts;

/// <summary>
/// Templates see the fleet: <c>nodes</c> lists every member with its facts, sorted by name, and
/// <c>where_role</c>, <c>where_label</c>, <c>where_fact</c> pick from it; a departed member stays for the grace.
/// </summary>
public sealed class FleetTemplateTests : IDisposable
{
    private static readonly DateTime T0 = new(2026, 12, 4, 0, 0, 0, DateTimeKind.Utc);
    private readonly TempDir _root = new();

    private static NodeIdentity Id(string name, string[] roles, params (string, string)[] labels) =>
        new(name, roles.ToHashSet(), labels.ToDictionary(l => l.Item1, l => l.Item2));

    private static FactsRecord Published(string node, string json) => new(node, json, []);

    private static (FleetState State, FleetView View) Fleet()
    {
        var state = new FleetState(TimeSpan.FromSeconds(30));
        state.SetMembers([
            (Id("web-2", ["web"], ("env", "prod")), "10.0.0.2", true),
            (Id("lb", ["lb"]), "10.0.0.9", true),
            (Id("web-1", ["web"], ("env", "dev")), "10.0.0.1", true),
        ], T0);
        state.Publish(Published("web-1", """{"os": "debian", "memory_mb": 2048, "addresses": ["192.168.1.1", "10.0.0.1"]}"""));
        state.Publish(Published("web-2", """{"os": "ubuntu", "memory_mb": 8192, "addresses": ["192.168.1.2"]}"""));
        var view = new FleetView(new NodeFacts("lb", ["lb"], new Dictionary<string, string>(), new JsonObject { ["os"] = "debian" })) { Snapshot = state.Snapshot(), Joined = true };
        return (state, view);
    }

    private string Render(FleetView view, string template) =>
        TemplateRenderer.Render(template, new ApplyContext(_root.Path) { Manifest = "lb", Fleet = view }, "conf");

    [Fact]
    public void Nodes_lists_every_member_sorted_by_name_and_where_role_picks_the_web_nodes()
    {
        var (_, view) = Fleet();

        Assert.Equal("lb web-1 web-2 ", Render(view, "{% for n in nodes %}{{ n.name }} {% endfor %}"));
        Assert.Equal("server web-1 192.168.1.1:8080\nserver web-2 192.168.1.2:8080\n",
            Render(view, "{% for n in nodes | where_role: \"web\" %}server {{ n.name }} {{ n.addresses[0] }}:8080\n{% endfor %}"));
    }

    [Fact]
    public void Where_label_and_where_fact_filter_by_labels_and_by_fact_conditions()
    {
        var (_, view) = Fleet();

        Assert.Equal("web-2", Render(view, "{% for n in nodes | where_label: \"env\", \"prod\" %}{{ n.name }}{% endfor %}"));
        Assert.Equal("web-1", Render(view, "{% for n in nodes | where_label: \"env=dev\" %}{{ n.name }}{% endfor %}"));
        Assert.Equal("web-2", Render(view, "{% for n in nodes | where_fact: \"memory_mb>=\", 4096 %}{{ n.name }}{% endfor %}"));
        Assert.Equal("lbweb-1", Render(view, "{% for n in nodes | where_fact: \"os\", \"debian\" %}{{ n.name }}{% endfor %}"));
        Assert.Equal("web-1", Render(view, "{% for n in nodes | where_role: \"web\" | where_fact: \"os\", \"debian\" %}{{ n.name }}{% endfor %}"));
        var e = Assert.Throws<ResourceException>(() => Render(view, "{% for n in nodes | where_fact: \"memory_mb=>\", 4 %}{% endfor %}"));
        Assert.Contains("unknown fact operator '=>'", e.Message);
    }

    [Fact]
    public void A_member_without_published_facts_is_listed_with_its_host_as_its_address()
    {
        var state = new FleetState(TimeSpan.FromSeconds(30));
        state.SetMembers([(Id("web-3", ["web"]), "10.0.0.3", true)], T0);
        var view = new FleetView(NodeFacts.Minimal("lb")) { Snapshot = state.Snapshot(), Joined = true };

        Assert.Equal("web-3 10.0.0.3;lb ;", Render(view, "{% for n in nodes | where_role: \"web\" %}{{ n.name }} {{ n.addresses[0] }};{% endfor %}lb {{ nodes[0].host }};"));
        Assert.Null(view.FactsOf("web-3"));
    }

    [Fact]
    public void A_template_reading_nodes_is_not_rendered_before_the_node_has_joined_but_one_reading_only_node_is()
    {
        var (_, view) = Fleet();
        view.Joined = false;

        var e = Assert.Throws<ResourceException>(() => Render(view, "{% for n in nodes %}{{ n.name }}{% endfor %}"));
        Assert.Contains("has not joined the mesh yet: the file is left as it is", e.Message);
        Assert.Equal("lb debian", Render(view, "{{ node.name }} {{ node.os }}"));
    }

    [Fact]
    public void A_departed_member_stays_for_the_grace_then_leaves_and_the_signature_says_when_the_fleet_changed()
    {
        var (state, _) = Fleet();
        var before = state.Signature();
        state.SetMembers([(Id("lb", ["lb"]), "10.0.0.9", true), (Id("web-1", ["web"], ("env", "dev")), "10.0.0.1", true)], T0.AddSeconds(1));

        Assert.False(state.Expire(T0.AddSeconds(30)));
        Assert.Contains(state.Snapshot().Nodes, n => n["name"]!.ToString() == "web-2" && n["departed"]!.GetValue<bool>());
        Assert.Equal(T0.AddSeconds(31), state.NextExpiry);
        var departed = state.Signature();
        Assert.NotEqual(before, departed);

        // Back within the grace: as if it never left.
        state.SetMembers([(Id("lb", ["lb"]), "10.0.0.9", true), (Id("web-1", ["web"], ("env", "dev")), "10.0.0.1", true), (Id("web-2", ["web"], ("env", "prod")), "10.0.0.2", true)], T0.AddSeconds(5));
        Assert.Equal(before, state.Signature());
        Assert.Null(state.NextExpiry);

        state.SetMembers([(Id("lb", ["lb"]), "10.0.0.9", true)], T0.AddSeconds(10));
        Assert.True(state.Expire(T0.AddSeconds(40)));
        Assert.Equal(["lb"], state.Snapshot().Nodes.Select(n => n["name"]!.ToString()));
        Assert.Null(state.NextExpiry);
    }

    [Fact]
    public void Published_facts_that_do_not_change_leave_the_signature_alone()
    {
        var (state, _) = Fleet();
        var before = state.Signature();
        state.Publish(Published("web-1", """{"os": "debian", "memory_mb": 2048, "addresses": ["192.168.1.1", "10.0.0.1"]}"""));
        Assert.Equal(before, state.Signature());
        state.Publish(Published("web-1", """{"os": "debian", "memory_mb": 4096, "addresses": ["192.168.1.1", "10.0.0.1"]}"""));
        Assert.NotEqual(before, state.Signature());
    }

    [Fact]
    public void Only_manifests_whose_templates_read_nodes_are_re_rendered_when_the_fleet_changes()
    {
        Manifest With(params ResourceSpec[] resources) => new("m", TargetSpec.All, new JsonObject(), resources);
        var fleet = With(new FileResource("f", [], "/lb.cfg", Ensure.Present, null, null) { Template = "{% for n in nodes %}{{ n.name }}{% endfor %}" });
        var own = With(new FileResource("f", [], "/motd", Ensure.Present, null, null) { Template = "{{ node.os }}" });
        var plain = With(new FileResource("f", [], "/nodes.txt", Ensure.Present, "nodes", null));

        Assert.True(FleetReaders.Reads(fleet, FleetChanged.Members));
        Assert.False(FleetReaders.Reads(own, FleetChanged.Members));
        Assert.False(FleetReaders.Reads(plain, FleetChanged.Members));
        Assert.True(FleetReaders.Reads(own, FleetChanged.Own));
        Assert.False(FleetReaders.Reads(plain, FleetChanged.Own));
    }

    public void Dispose() => _root.Dispose();
}
