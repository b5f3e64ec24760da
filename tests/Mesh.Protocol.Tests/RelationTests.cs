using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>requires, before, notify and subscribe fold into one graph the engine follows.</summary>
public sealed class RelationTests
{
    private static ResourceSpec R(Manifest m, string id) => m.Resources.Single(r => r.Id == id);

    [Fact]
    public void Before_and_notify_make_the_other_resource_come_after()
    {
        var m = Parse("""
            manifest: m
            resources:
              - { id: conf, type: file, path: /conf, notify: [reload] }
              - { id: dir, type: directory, path: /d, before: [conf] }
              - { id: reload, type: file, path: /reload }
            """);

        Assert.Equal(["dir"], R(m, "conf").Requires);
        Assert.Equal(["conf"], R(m, "reload").Requires);
        Assert.Equal(["reload"], R(m, "conf").Notify);
        Assert.Equal(["dir", "conf", "reload"], ResourceGraph.Order(m.Resources).Select(r => r.Id));
    }

    [Fact]
    public void Subscribe_is_notify_seen_from_the_other_side()
    {
        var m = Parse("""
            manifest: m
            resources:
              - { id: reload, type: file, path: /reload, subscribe: [conf] }
              - { id: conf, type: file, path: /conf }
            """);

        Assert.Equal(["conf"], R(m, "reload").Requires);
        Assert.Equal(["reload"], R(m, "conf").Notify);
        Assert.Equal(["conf", "reload"], ResourceGraph.Order(m.Resources).Select(r => r.Id));
    }

    [Theory]
    [InlineData("before")]
    [InlineData("notify")]
    [InlineData("subscribe")]
    public void An_unknown_name_in_any_relation_is_named_with_its_line(string relation)
    {
        var error = OnlyErrorIn($"""
            manifest: m
            resources:
              - id: a
                type: file
                path: /a
                {relation}:
                  - ghost
            """);

        error.AssertAt(7, 9, $"resources[0] (a).{relation}", "'ghost' is not a resource of this manifest");
    }

    [Fact]
    public void A_cycle_made_of_before_and_requires_is_named()
    {
        var error = OnlyErrorIn("""
            manifest: m
            resources:
              - { id: a, type: file, path: /a, requires: [b] }
              - { id: b, type: file, path: /b }
              - { id: c, type: file, path: /c, before: [b], requires: [a] }
            """);

        Assert.Contains("dependency cycle:", error.Message);
        foreach (var id in new[] { "a", "b", "c" }) Assert.Contains(id, error.Message);
    }

    [Fact]
    public void A_cycle_closed_by_before_is_reported_on_the_resource_that_says_before()
    {
        var error = OnlyErrorIn("""
            manifest: m
            resources:
              - { id: conf, type: file, path: /conf }
              - id: svc
                type: file
                path: /svc
                before: [conf]
                requires: [conf]
            """);

        Assert.Contains("dependency cycle:", error.Message);
        Assert.Equal("resources[1] (svc).before", error.Field);
        Assert.Equal(7, error.Line);
    }

    [Fact]
    public void Relations_survive_the_canonical_round_trip()
    {
        var m = Parse("""
            manifest: m
            resources:
              - { id: reload, type: file, path: /reload, subscribe: [conf] }
              - { id: conf, type: file, path: /conf, notify: [other] }
              - { id: other, type: file, path: /other, before: [reload] }
            """);

        var bytes = CanonicalForm.ToBytes(m);
        var again = CanonicalForm.FromBytes(bytes, "canonical");

        Assert.Equal(bytes, CanonicalForm.ToBytes(again));
        foreach (var r in m.Resources)
        {
            Assert.Equal(r.Requires, R(again, r.Id).Requires);
            Assert.Equal(r.Notify, R(again, r.Id).Notify);
        }
    }
}
