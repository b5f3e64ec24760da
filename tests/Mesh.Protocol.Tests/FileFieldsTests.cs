using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>The ways a file gets its content (content, template, source) and its ownership.</summary>
public sealed class FileFieldsTests
{
    private static FileResource OnlyFile(string yaml) => (FileResource)Assert.Single(Parse(yaml).Resources);

    [Fact]
    public void A_template_owner_and_group_are_read()
    {
        var f = OnlyFile("""
            manifest: m
            vars: { port: 8080 }
            resources:
              - id: conf
                type: file
                path: /conf
                owner: www-data
                group: "33"
                template: |
                  port = {{ vars.port }}
            """);

        Assert.Equal("port = {{ vars.port }}", f.Template!.TrimEnd('\n'));
        Assert.Equal("www-data", f.Owner);
        Assert.Equal("33", f.Group);
        Assert.Null(f.Content);
    }

    [Fact]
    public void A_template_that_does_not_parse_is_refused_at_push_with_its_line()
    {
        var error = OnlyErrorIn("""
            manifest: m
            resources:
              - id: conf
                type: file
                path: /conf
                template: "port = {{ vars.port "
            """);

        error.AssertAt(6, 15, "resources[0] (conf).template", "template does not parse");
    }

    [Fact]
    public void Content_and_template_together_are_refused()
    {
        var error = OnlyErrorIn("""
            manifest: m
            resources:
              - { id: conf, type: file, path: /conf, content: a, template: b }
            """);

        Assert.Equal("resources[0] (conf).template", error.Field);
        Assert.Contains("give one of content, template or source", error.Message);
    }

    [Fact]
    public void A_source_is_resolved_to_the_hash_of_the_file_sent_with_the_push()
    {
        var hash = new string('a', 64);
        var manifest = ManifestParser.Parse("""
            manifest: m
            resources:
              - { id: bin, type: file, path: /bin/tool, source: files/tool }
            """, "m.yaml", name => name == "files/tool" ? hash : null);

        var f = (FileResource)Assert.Single(manifest.Resources);
        Assert.Equal(hash, f.SourceHash);
        var again = CanonicalForm.FromBytes(CanonicalForm.ToBytes(manifest), "canonical");
        Assert.Equal(hash, ((FileResource)again.Resources[0]).SourceHash);
    }

    [Fact]
    public void A_source_that_was_not_sent_is_named()
    {
        var error = OnlyErrorIn("""
            manifest: m
            resources:
              - { id: bin, type: file, path: /bin/tool, source: files/tool }
            """);

        Assert.Equal("resources[0] (bin).source", error.Field);
        Assert.Contains("'files/tool' was not sent with the push", error.Message);
    }

    [Theory]
    [InlineData("owner", "root:root")]
    [InlineData("group", "a b")]
    public void Bad_account_names_are_refused(string field, string value)
    {
        var error = OnlyErrorIn($"manifest: m\nresources:\n  - {{ id: f, type: file, path: /f, {field}: '{value}' }}\n");

        Assert.Equal($"resources[0] (f).{field}", error.Field);
        Assert.Contains("is not a user or group name or id", error.Message);
    }
}
