using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>YAML that is valid becomes the typed model, field by field.</summary>
public class ManifestParsingTests
{
    private const string FullManifest = """
        # The web tier's application.
        manifest: web
        target:
          roles: [web, edge]
          labels:
            env: prod
            zone: eu-1
          nodes: ["web-*", "edge-?"]
        vars:
          port: 8080
          upstreams:
            - host: a.internal
              weight: 2
            - host: b.internal
          tls:
            enabled: true
            ciphers: [a, b]
        resources:
          - id: app-dir
            type: directory
            path: /srv/app
            mode: "0750"
          - id: app-conf
            type: file
            path: /srv/app/app.conf
            mode: "0640"
            content: |
              listen = 0.0.0.0:8080
              workers = 4
            requires: [app-dir]
          - id: old-cache
            type: directory
            path: /srv/app/cache
            ensure: absent
            force: true
            requires: [app-dir]
          - id: legacy-conf
            type: file
            path: /srv/app/legacy.conf
            ensure: absent
            requires:
              - app-dir
              - app-conf
        """;

    [Fact]
    public void A_full_manifest_parses_into_its_name_target_vars_and_resources()
    {
        var m = Parse(FullManifest);

        Assert.Equal("web", m.Name);
        Assert.Equal(["web", "edge"], m.Target.Roles);
        Assert.Equal(new Dictionary<string, string> { ["env"] = "prod", ["zone"] = "eu-1" }, m.Target.Labels);
        Assert.Equal(["web-*", "edge-?"], m.Target.Nodes);
        Assert.Equal(
            """{"port":"8080","upstreams":[{"host":"a.internal","weight":"2"},{"host":"b.internal"}],"tls":{"enabled":"true","ciphers":["a","b"]}}""",
            m.Vars.ToJsonString());
        Assert.Equal(4, m.Resources.Count);
        AssertSameResource(new DirectoryResource("app-dir", [], "/srv/app", Ensure.Present, Mode("0750"), Force: false), m.Resources[0]);
        AssertSameResource(new FileResource("app-conf", ["app-dir"], "/srv/app/app.conf", Ensure.Present, "listen = 0.0.0.0:8080\nworkers = 4\n", Mode("0640")), m.Resources[1]);
        AssertSameResource(new DirectoryResource("old-cache", ["app-dir"], "/srv/app/cache", Ensure.Absent, null, Force: true), m.Resources[2]);
        AssertSameResource(new FileResource("legacy-conf", ["app-dir", "app-conf"], "/srv/app/legacy.conf", Ensure.Absent, null, null), m.Resources[3]);
    }

    [Fact]
    public void Omitted_fields_take_their_defaults()
    {
        var m = Parse("""
            manifest: minimal
            resources:
              - id: motd
                type: file
                path: /etc/motd
            """);

        Assert.Equal(TargetSpec.All.ToString(), m.Target.ToString());
        Assert.Empty(m.Vars);
        AssertSameResource(new FileResource("motd", [], "/etc/motd", Ensure.Present, null, null), Assert.Single(m.Resources));
    }

    [Fact]
    public void A_byte_order_mark_at_the_start_is_not_part_of_the_first_key() =>
        Assert.Equal("web", Parse("\uFEFFmanifest: web\nresources: []\n").Name);

    [Fact]
    public void A_manifest_may_have_no_resources()
    {
        Assert.Empty(Parse("manifest: empty").Resources);
        Assert.Empty(Parse("manifest: empty\nresources: []").Resources);
    }

    [Fact]
    public void A_single_requires_may_be_written_without_a_list()
    {
        var m = Parse("""
            manifest: a
            resources:
              - {id: dir, type: directory, path: /d}
              - {id: file, type: file, path: /d/f, requires: dir}
            """);

        Assert.Equal(["dir"], m.Resources[1].Requires);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("yes", true)]
    [InlineData("on", true)]
    [InlineData("false", false)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    public void Force_accepts_the_usual_yaml_booleans(string written, bool expected)
    {
        var m = Parse($"""
            manifest: a
            resources:
              - id: d
                type: directory
                path: /d
                force: {written}
            """);

        Assert.Equal(expected, Assert.IsType<DirectoryResource>(Assert.Single(m.Resources)).Force);
    }

    [Fact]
    public void Content_keeps_its_text_exactly_as_the_block_scalar_says()
    {
        var m = Parse("""
            manifest: a
            resources:
              - id: kept
                type: file
                path: /kept
                content: |
                  first

                    indented
              - id: stripped
                type: file
                path: /stripped
                content: |-
                  no final newline
            """);

        Assert.Equal("first\n\n  indented\n", ((FileResource)m.Resources[0]).Content);
        Assert.Equal("no final newline", ((FileResource)m.Resources[1]).Content);
    }

    [Fact]
    public void Vars_keep_every_scalar_as_the_text_written_and_plain_empty_values_as_null()
    {
        var m = Parse("""
            manifest: a
            vars:
              count: 010
              flag: yes
              quoted: "null"
              nothing: ~
              blank:
            """);

        Assert.Equal("""{"count":"010","flag":"yes","quoted":"null","nothing":null,"blank":null}""", m.Vars.ToJsonString());
    }

    [Theory]
    [InlineData("0644", 420)]
    [InlineData("644", 420)]
    [InlineData("0755", 493)]
    [InlineData("4755", 2541)]
    [InlineData("000", 0)]
    public void A_mode_is_read_as_octal_and_written_back_with_four_digits(string written, int bits)
    {
        Assert.True(UnixMode.TryParse(written, out var mode));
        Assert.Equal(bits, mode.Bits);
        Assert.Equal(written.PadLeft(4, '0'), mode.ToString());
    }

    [Theory]
    [InlineData("examples/motd.yaml", "motd", 2)]
    [InlineData("examples/web.yaml", "web", 4)]
    [InlineData("examples/rolling-web.yaml", "rolling-web", 4)]
    public void The_shipped_examples_are_valid_manifests(string file, string name, int resources)
    {
        var m = ManifestParser.Parse(File.ReadAllText(Path.Combine(Parsing.RepositoryRoot(), file)), file);

        Assert.Equal(name, m.Name);
        Assert.Equal(resources, m.Resources.Count);
    }
}
