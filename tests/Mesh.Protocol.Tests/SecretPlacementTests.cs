using System.Security.Cryptography;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Secrets;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>
/// Where a secret may stand, and that plaintext never passes a node's parser: each refusal
/// names the file, line and field, and says what to do.
/// </summary>
public sealed class SecretPlacementTests
{
    private static readonly string Envelope = MakeEnvelope();

    private static string MakeEnvelope()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return SecretBox.Seal("hunter2"u8, [key.ExportSubjectPublicKeyInfo()], "web");
    }

    private static IReadOnlyList<ManifestError> PlaintextErrorsIn(string yaml) =>
        Assert.Throws<ManifestException>(() => ManifestParser.Parse(yaml, Source, plaintextSecrets: true)).Errors;

    [Fact]
    public void The_shipped_secret_example_is_valid_for_the_cli_and_refused_by_a_node_as_it_is()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot(), "examples/secret.yaml"));

        Assert.Equal(2, ManifestParser.Parse(text, "secret.yaml", plaintextSecrets: true).Resources.Count);
        Assert.Contains("never goes to a node", Assert.Single(Assert.Throws<ManifestException>(() => ManifestParser.Parse(text, "secret.yaml")).Errors).Message);
    }

    [Fact]
    public void A_node_refuses_a_plaintext_secret_and_says_where_it_is()
    {
        var yaml = "manifest: web\nvars:\n  password: !secret hunter2\nresources: []\n";

        var error = OnlyErrorIn(yaml);

        error.AssertAt(3, 13, "vars.password", "a plaintext secret (!secret) never goes to a node");
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public void Sealed_values_may_stand_in_vars_file_content_and_template_and_exec_command_guards_and_env()
    {
        var manifest = Parse($$"""
            manifest: web
            vars: { db: { password: !sealed "{{Envelope}}", hosts: ["{{Envelope}}"] } }
            resources:
              - { id: a, type: file, path: /a, content: !sealed "{{Envelope}}" }
              - { id: b, type: file, path: /b, template: "{{Envelope}}" }
              - id: c
                type: exec
                command: ["/bin/tool", !sealed "{{Envelope}}"]
                unless: !sealed "{{Envelope}}"
                only_if: ["{{Envelope}}"]
                env: { TOKEN: !sealed "{{Envelope}}" }
            """);

        Assert.True(manifest.HasSealedValues);
        Assert.Equal(Envelope, ((FileResource)manifest.Resources[0]).Content);
        Assert.Equal(Envelope, ((ExecResource)manifest.Resources[2]).Env["TOKEN"]);
    }

    [Fact]
    public void A_manifest_without_sealed_values_says_so()
    {
        Assert.False(Parse("manifest: web\nresources: [{ id: a, type: file, path: /a, content: x }]\n").HasSealedValues);
    }

    [Theory]
    [InlineData("mode: !sealed \"ENVELOPE\"", "mode")]
    [InlineData("owner: \"ENVELOPE\"", "owner")]
    [InlineData("path: !sealed \"ENVELOPE\"", "path")]
    public void A_sealed_value_where_none_may_stand_is_one_clear_error(string field, string name)
    {
        var flow = "{ id: a, type: file, " + (name == "path" ? "" : "path: /a, ") + field.Replace("ENVELOPE", Envelope) + " }";

        var error = OnlyErrorIn(OneResource(flow));

        Assert.Equal((3, $"resources[0] (a).{name}"), (error.Line, error.Field));
        Assert.Contains("a sealed value cannot be used here", error.Message);
        Assert.Contains("a file's content or template", error.Message);
    }

    [Fact]
    public void A_plaintext_secret_where_none_may_stand_is_refused_by_the_cli_before_sealing()
    {
        const string Flow = "{ id: a, type: file, path: /a, mode: !secret \"0600\" }";

        var error = Assert.Single(PlaintextErrorsIn(OneResource(Flow)));

        error.AssertAt(3, 5 + Flow.IndexOf("!secret", StringComparison.Ordinal), "resources[0] (a).mode", "a secret cannot be used here");
    }

    [Fact]
    public void The_targeting_of_a_manifest_cannot_be_secret_even_through_an_alias()
    {
        var yaml = $"manifest: web\nvars: {{ who: &w !sealed \"{Envelope}\" }}\ntarget: {{ roles: [*w] }}\nresources: []\n";

        var error = OnlyErrorIn(yaml);

        Assert.Equal((2, "target.roles[0]"), (error.Line, error.Field));
        Assert.Contains("a sealed value cannot be used here", error.Message);
    }

    [Fact]
    public void A_variable_name_cannot_be_secret()
    {
        var error = Assert.Single(PlaintextErrorsIn("manifest: web\nvars: { !secret name: 1 }\nresources: []\n"));

        Assert.Equal((2, "vars.name"), (error.Line, error.Field));
        Assert.Contains("a secret cannot be used here", error.Message);
    }

    [Fact]
    public void Secret_marks_one_value_not_a_mapping()
    {
        var error = Assert.Single(PlaintextErrorsIn("manifest: web\nvars: !secret { a: 1 }\nresources: []\n"));

        error.AssertAt(2, 7, "vars", "!secret marks one value (a string), not a mapping or a list");
    }

    [Fact]
    public void A_secret_needs_a_value()
    {
        var error = Assert.Single(PlaintextErrorsIn("manifest: web\nvars:\n  a: !secret\nresources: []\n"));

        Assert.Equal((3, "vars.a"), (error.Line, error.Field));
        Assert.Contains("!secret needs a value", error.Message);
    }

    [Fact]
    public void Sealed_takes_an_envelope_not_plaintext()
    {
        AssertResourceError("{ id: a, type: file, path: /a, content: !sealed hunter2 }", "resources[0] (a).content", "!sealed", "write the plaintext as !secret");
    }

    [Fact]
    public void A_damaged_envelope_is_refused_at_push()
    {
        var error = OnlyErrorIn(OneResource("{ id: a, type: file, path: /a, content: \"" + Envelope[..(SecretBox.Prefix.Length + 44)] + "\" }"));

        Assert.Equal("resources[0] (a).content", error.Field);
        Assert.Contains("is not a valid sealed value: it is cut short", error.Message);
    }
}
