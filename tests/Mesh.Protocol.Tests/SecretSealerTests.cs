using System.Security.Cryptography;
using System.Text;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Secrets;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>
/// The CLI's rewrite of <c>!secret</c> values into envelopes: only the secrets' spans change,
/// line numbers stay, what comes out parses on a node and opens to what was written.
/// </summary>
public sealed class SecretSealerTests : IDisposable
{
    private readonly ECDiffieHellman _node = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    private SealedText Seal(string yaml) => SecretSealer.Seal(yaml, Source, _ => [_node.ExportSubjectPublicKeyInfo()]);

    private OpenedManifest Open(string sealedYaml)
    {
        var manifest = ManifestParser.Parse(sealedYaml, Source);
        return ManifestSecrets.Open(manifest, envelope => SecretBox.Open(envelope, _node, manifest.Name), "a");
    }

    private const string Manifest = """
        # Database credentials.
        manifest: db
        vars:
          user: app   # not secret
          password: !secret "hunter2 é"
          nested: { token: !secret 'tok-123' }
        resources:
          - id: conf
            type: file
            path: /etc/db.conf
            content: !secret |
              user = app
              password = hunter2 é

            mode: "0600"
          - id: migrate
            type: exec
            command: [/usr/bin/migrate, !secret "--key=k3y"]
            env:
              PGPASSWORD: &pw !secret "pg-pass"
              AGAIN: *pw
        """;

    [Fact]
    public void Every_secret_becomes_an_envelope_and_every_other_byte_stays()
    {
        var result = Seal(Manifest);

        Assert.Equal(5, result.Sealed);
        Assert.Equal("db", result.Manifest!.Name);
        foreach (var plain in new[] { "hunter2", "tok-123", "k3y", "pg-pass", "!secret" })
            Assert.DoesNotContain(plain, result.Text);
        // Outside the secrets, the file is as written: comments, quoting, order, anchors.
        var kept = result.Text.Split('\n');
        var written = Manifest.Split('\n');
        Assert.Equal(written.Length, kept.Length);
        foreach (var line in new[] { 0, 1, 2, 3, 6, 7, 8, 9, 14, 15, 16, 18, 20 })
            Assert.Equal(written[line], kept[line]);
        Assert.StartsWith("  password: !sealed \"mesh-sealed:v1:", kept[4]);
        Assert.StartsWith("  nested: { token: !sealed \"mesh-sealed:v1:", kept[5]);
        Assert.EndsWith("\" }", kept[5]);
        Assert.StartsWith("    content: !sealed \"mesh-sealed:v1:", kept[10]);
        Assert.StartsWith("    command: [/usr/bin/migrate, !sealed \"mesh-sealed:v1:", kept[17]);
        Assert.StartsWith("      PGPASSWORD: &pw !sealed \"mesh-sealed:v1:", kept[19]);
    }

    [Fact]
    public void The_sealed_text_parses_on_a_node_and_opens_to_what_was_written()
    {
        var sealedText = Seal(Manifest).Text;

        var opened = Open(sealedText);

        var plain = ManifestParser.Parse(Manifest, Source, plaintextSecrets: true);
        Assert.Equal(Encoding.UTF8.GetString(CanonicalForm.ToBytes(plain)), Encoding.UTF8.GetString(CanonicalForm.ToBytes(opened.Manifest)));
        Assert.Equal(["conf", "migrate"], opened.SecretResources.Order());
        Assert.Equal("user = app\npassword = hunter2 é\n", ((FileResource)opened.Manifest.Resources[0]).Content);
    }

    [Fact]
    public void The_canonical_form_keeps_the_envelopes_not_the_values()
    {
        var manifest = ManifestParser.Parse(Seal(Manifest).Text, Source);

        var canonical = Encoding.UTF8.GetString(CanonicalForm.ToBytes(manifest));

        Assert.True(manifest.HasSealedValues);
        Assert.Contains(SecretBox.Prefix, canonical);
        foreach (var plain in new[] { "hunter2", "tok-123", "k3y", "pg-pass" }) Assert.DoesNotContain(plain, canonical);
        // Read back as a node reads a body, the envelopes are still recognised as such.
        Assert.True(CanonicalForm.FromBytes(CanonicalForm.ToBytes(manifest), "body").HasSealedValues);
    }

    // An error only a node finds (here: a source the push did not carry) names the line as written.
    [Fact]
    public void A_node_names_the_lines_of_the_file_as_written_after_a_multiline_secret()
    {
        var yaml = """
            manifest: db
            resources:
              - id: conf
                type: file
                path: /etc/db.conf
                content: !secret |
                  one
                  two
                  three
              - { id: other, type: file, path: /etc/other, source: other.conf }
            """;

        var error = OnlyErrorIn(Seal(yaml).Text);

        error.AssertAt(10, 56, "resources[1] (other).source", "was not sent with the push");
    }

    [Fact]
    public void A_quoted_secret_over_several_lines_keeps_its_lines_too()
    {
        var yaml = "manifest: db\nvars: {a: !secret \"one\n  two\", b: 1}\nresources:\n  - { id: x, type: file, path: /x, source: x.conf }\n";

        var sealedText = Seal(yaml).Text;

        Assert.Equal(yaml.Split('\n').Length, sealedText.Split('\n').Length);
        OnlyErrorIn(sealedText).AssertAt(5, 44, "resources[0] (x).source", "was not sent with the push");
        var attached = ManifestParser.Parse(sealedText, Source, _ => new string('0', 64));
        Assert.Equal("one two", ManifestSecrets.Open(attached, e => SecretBox.Open(e, _node, "db"), "a").Manifest.Vars["a"]!.GetValue<string>());
    }

    [Fact]
    public void A_text_without_secrets_is_left_alone()
    {
        var yaml = "manifest: db\nresources: []\n";

        var result = Seal(yaml);

        Assert.Same(yaml, result.Text);
        Assert.Equal(0, result.Sealed);
    }

    [Fact]
    public void A_broken_file_with_a_secret_is_refused_before_anything_is_sealed()
    {
        var yaml = "manifest: db\nresources: [\nvars: {a: !secret \"x\"}\n";

        Assert.Throws<ManifestException>(() => SecretSealer.Seal(yaml, Source, _ => throw new InvalidOperationException("never asked")));
    }

    [Fact]
    public void A_secret_spelt_through_a_tag_directive_is_sealed_too()
    {
        var yaml = "%TAG !m! !sec\n---\nmanifest: db\nvars: {a: !m!ret \"hunter2\"}\nresources: []\n";

        var result = Seal(yaml);

        Assert.Equal(1, result.Sealed);
        Assert.DoesNotContain("hunter2", result.Text);
    }

    [Fact]
    public void The_recipients_are_asked_for_with_the_parsed_manifest()
    {
        Manifest? seen = null;

        SecretSealer.Seal(Manifest.Replace("manifest: db", "manifest: db\ntarget: { roles: [db] }"), Source, m =>
        {
            seen = m;
            return [_node.ExportSubjectPublicKeyInfo()];
        });

        Assert.Equal(["db"], seen!.Target.Roles);
    }

    public void Dispose() => _node.Dispose();
}
