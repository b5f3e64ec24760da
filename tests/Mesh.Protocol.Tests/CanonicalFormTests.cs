using System.Text;
using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>
/// The canonical form is what gets hashed, signed and shipped: equal meaning gives equal bytes,
/// any change of meaning changes them, and the bytes parse back to the same manifest.
/// </summary>
public class CanonicalFormTests
{
    private static byte[] Canonical(string yaml) => CanonicalForm.ToBytes(Parse(yaml));

    private static string CanonicalText(string yaml) => Encoding.UTF8.GetString(Canonical(yaml));

    private static string HashOf(string yaml) => CanonicalForm.Hash(Canonical(yaml));

    private const string BlockStyle = """
        # The web tier.
        manifest: web
        target:
          roles: [web]
          labels: {env: prod, zone: eu-1}
        vars:
          port: 8080
          hosts: [a, b]
        resources:
          - id: app-dir
            type: directory
            path: /srv/app
          - id: app-conf
            type: file
            path: /srv/app/app.conf
            mode: "0640"
            content: |
              listen = 8080
            requires: [app-dir]
        """;

    // The same manifest: other key order, flow style, other quoting, comments, defaults spelt out.
    private const string FlowStyle = """
        resources:
          - {type: directory, path: '/srv/app', id: app-dir, ensure: present, force: false}
          - requires:
              - app-dir
            content: "listen = 8080\n"   # same text, written with an escape
            mode: '0640'
            path: "/srv/app/app.conf"
            id: "app-conf"
            type: file
        vars: {hosts: ["a", 'b'], port: "8080"}
        target:
          labels:
            zone: eu-1
            env: "prod"
          roles:
            - web
        "manifest": web
        """;

    [Fact]
    public void The_same_manifest_written_two_ways_has_the_same_canonical_bytes_and_hash()
    {
        Assert.Equal(Canonical(BlockStyle), Canonical(FlowStyle));
        Assert.Equal(HashOf(BlockStyle), HashOf(FlowStyle));
    }

    [Fact]
    public void The_canonical_form_is_compact_json_with_sorted_keys_and_explicit_defaults()
    {
        Assert.Equal(
            """{"manifest":"web","resources":[{"ensure":"present","id":"app-dir","path":"/srv/app","type":"directory"},"""
            + """{"content":"listen = 8080\n","ensure":"present","id":"app-conf","mode":"0640","path":"/srv/app/app.conf","requires":["app-dir"],"type":"file"}],"target":"""
            + """{"labels":{"env":"prod","zone":"eu-1"},"roles":["web"]},"vars":{"hosts":["a","b"],"port":"8080"}}""",
            CanonicalText(BlockStyle));
    }

    [Theory]
    [InlineData("listen = 8080", "listen = 8081")]
    [InlineData("mode: \"0640\"", "mode: \"0600\"")]
    [InlineData("roles: [web]", "roles: [web, edge]")]
    [InlineData("env: prod", "env: staging")]
    [InlineData("port: 8080", "port: 8081")]
    [InlineData("requires: [app-dir]", "requires: []")]
    [InlineData("content: |", "content: |-")]
    [InlineData("path: /srv/app/app.conf", "path: /srv/app/app.cfg")]
    public void A_change_of_meaning_changes_the_hash(string original, string changed)
    {
        Assert.Contains(original, BlockStyle);

        Assert.NotEqual(HashOf(BlockStyle), HashOf(BlockStyle.Replace(original, changed)));
    }

    [Fact]
    public void Resource_order_is_part_of_the_meaning()
    {
        const string ab = "manifest: m\nresources:\n  - {id: a, type: file, path: /a}\n  - {id: b, type: file, path: /b}\n";
        const string ba = "manifest: m\nresources:\n  - {id: b, type: file, path: /b}\n  - {id: a, type: file, path: /a}\n";

        Assert.NotEqual(HashOf(ab), HashOf(ba));
    }

    [Fact]
    public void Canonical_bytes_parse_back_into_a_manifest_with_the_same_canonical_bytes()
    {
        var bytes = Canonical(BlockStyle);

        var back = CanonicalForm.FromBytes(bytes, "canonical");

        Assert.Equal(bytes, CanonicalForm.ToBytes(back));
        Assert.Equal("web", back.Name);
        AssertSameResource(Parse(BlockStyle).Resources[1], back.Resources[1]);
    }

    [Theory]
    [InlineData("accents and scripts: héllo ✓ 日本語 Ελληνικά")]
    [InlineData("outside the BMP: 😀 𝄞")]
    [InlineData("controls: \0 \u0001 \u0007 \b \t \u000b \f \r\n \u001b \u001f \u007f")]
    [InlineData("C1 and separators: \u0085 \u00a0 \u2028 \u2029 \ufeff")]
    [InlineData("json and yaml syntax: \" \\ / ' # & * ! | > % @ ` {a: [b]} --- ...")]
    [InlineData("  leading and trailing spaces  \n\n")]
    public void Any_text_content_survives_the_round_trip_byte_for_byte(string content)
    {
        var manifest = new Manifest("m", TargetSpec.All, [], [new FileResource("f", [], "/f", Ensure.Present, content, null)]);

        var back = CanonicalForm.FromBytes(CanonicalForm.ToBytes(manifest), "canonical");

        var text = Assert.IsType<FileResource>(Assert.Single(back.Resources)).Content;
        Assert.Equal(Encoding.UTF8.GetBytes(content), Encoding.UTF8.GetBytes(text!));
    }

    [Fact]
    public void Non_ascii_text_is_stored_as_plain_utf8_not_escaped()
    {
        var text = CanonicalText("manifest: m\nvars:\n  greeting: grüß dich 日本\n");

        Assert.Contains("\"greeting\":\"grüß dich 日本\"", text);
    }

    [Fact]
    public void Nested_vars_are_sorted_at_every_level_but_lists_keep_their_order()
    {
        var text = CanonicalText("manifest: m\nvars:\n  z: {b: 1, a: [3, 1, 2]}\n  y: ~\n");

        Assert.EndsWith("""
            "vars":{"y":null,"z":{"a":["3","1","2"],"b":"1"}}}
            """, text);
    }

    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void The_hash_is_lowercase_hex_sha256(string input, string expected) =>
        Assert.Equal(expected, CanonicalForm.Hash(Encoding.UTF8.GetBytes(input)));
}
