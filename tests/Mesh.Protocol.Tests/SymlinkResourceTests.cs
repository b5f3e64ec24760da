using System.Text;
using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>The <c>symlink</c> resource: its fields, and targets that would leave the root.</summary>
public sealed class SymlinkResourceTests
{
    private static SymlinkResource OnlyLink(string yaml) => (SymlinkResource)Assert.Single(Parse(yaml).Resources);

    [Fact]
    public void Path_target_ensure_and_force_are_read_and_the_path_is_managed()
    {
        var link = OnlyLink("""
            manifest: m
            resources:
              - id: current
                type: symlink
                path: /srv/app/current
                target: releases/42
                force: true
            """);

        AssertSameResource(new SymlinkResource("current", [], "/srv/app/current", Ensure.Present, "releases/42", Force: true), link);
        Assert.Equal("/srv/app/current", link.ManagedPath);
    }

    [Fact]
    public void An_absolute_target_is_kept_as_a_manifest_path() =>
        Assert.Equal("/opt/foo", OnlyLink("manifest: m\nresources:\n  - {id: l, type: symlink, path: /etc/foo, target: /opt/foo}\n").Target);

    [Fact]
    public void An_absent_link_needs_no_target()
    {
        var link = OnlyLink("manifest: m\nresources:\n  - {id: l, type: symlink, path: /etc/foo, ensure: absent}\n");

        Assert.Equal(Ensure.Absent, link.Ensure);
        Assert.Null(link.Target);
    }

    [Fact]
    public void A_present_link_without_a_target_is_reported_at_the_resource() =>
        AssertResourceError("{id: l, type: symlink, path: /etc/foo}", "resources[0] (l).target", "{", "is required");

    [Fact]
    public void An_absent_link_with_a_target_is_refused_at_the_target() =>
        AssertResourceError("{id: l, type: symlink, path: /etc/foo, ensure: absent, target: /opt/foo}", "resources[0] (l).target", "/opt/foo",
            "an absent symlink takes no target");

    [Theory]
    [InlineData("/etc/foo", "../../outside", "escapes the root: from /etc it climbs above /")]
    [InlineData("/foo", "../etc/passwd", "escapes the root")]
    [InlineData("/a/b/link", "../x/../../../y", "escapes the root")]
    [InlineData("/etc/foo", "/opt/../../x", "escapes the root")]
    [InlineData("/etc/foo", "/opt//foo", "'//' is not allowed")]
    [InlineData("/etc/foo", "", "is empty")]
    public void A_target_that_is_empty_or_climbs_above_the_root_is_refused(string path, string target, string says) =>
        AssertResourceError($"{{id: l, type: symlink, path: {path}, target: '{target}'}}", "resources[0] (l).target", $"'{target}'", says);

    [Theory]
    [InlineData("/a/b/link", "../../x")]
    [InlineData("/a/b/link", "./c/../d")]
    [InlineData("/link", "x/../y")]
    public void A_relative_target_may_climb_as_far_as_the_root(string path, string target) =>
        Assert.Equal(target, OnlyLink($"manifest: m\nresources:\n  - {{id: l, type: symlink, path: {path}, target: '{target}'}}\n").Target);

    [Fact]
    public void The_root_itself_cannot_be_a_symlink() =>
        AssertResourceError("{id: l, type: symlink, path: /, target: /x}", "resources[0] (l).path", "/,", "the root itself cannot be a symlink");

    [Fact]
    public void An_unknown_field_is_reported_with_the_fields_symlink_knows()
    {
        var error = OnlyErrorIn("""
            manifest: m
            resources:
              - id: l
                type: symlink
                path: /etc/foo
                target: /opt/foo
                source: /opt/foo
            """);

        error.AssertAt(7, 5, "resources[0] (l).source", "unknown field (expected one of: ");
        Assert.Contains("target", error.Message);
        Assert.Contains("force", error.Message);
    }

    [Fact]
    public void A_link_and_a_file_at_one_path_are_refused()
    {
        var error = OnlyErrorIn("""
            manifest: m
            resources:
              - { id: conf, type: file, path: /etc/foo }
              - { id: link, type: symlink, path: /etc/foo, target: /opt/foo }
            """);

        Assert.Equal((4, "resources[1] (link).path"), (error.Line, error.Field));
        Assert.Contains("already managed by 'conf'", error.Message);
    }

    [Fact]
    public void The_canonical_form_parses_back_to_the_same_bytes()
    {
        var manifest = ManifestParser.Parse("""
            manifest: m
            resources:
              - { id: current, type: symlink, path: /srv/current, target: releases/42, force: yes }
              - { id: old, type: symlink, path: /srv/previous, ensure: absent }
            """, "x.yaml");
        var bytes = CanonicalForm.ToBytes(manifest);

        var again = CanonicalForm.ToBytes(CanonicalForm.FromBytes(bytes, "canonical"));

        Assert.Equal(Encoding.UTF8.GetString(bytes), Encoding.UTF8.GetString(again));
        Assert.Contains("{\"ensure\":\"present\",\"force\":\"true\",\"id\":\"current\",\"path\":\"/srv/current\",\"target\":\"releases/42\",\"type\":\"symlink\"}",
            Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Defaults_spelt_out_give_the_same_bytes()
    {
        static byte[] Canonical(string resource) => CanonicalForm.ToBytes(ManifestParser.Parse($"manifest: m\nresources:\n  - {resource}\n", "x.yaml"));

        Assert.Equal(
            Canonical("{id: l, type: symlink, path: /l, target: t}"),
            Canonical("{id: l, type: symlink, path: /l, target: t, ensure: present, force: false}"));
    }
}
