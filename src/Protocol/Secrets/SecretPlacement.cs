using Mesh.Protocol.Manifests;
using YamlDotNet.RepresentationModel;

namespace Mesh.Protocol.Secrets;

/// <summary>
/// Where a manifest may hold a secret, checked over the whole YAML tree by position (so an
/// alias cannot carry a secret somewhere it may not stand): any value under <c>vars</c>, a
/// file's <c>content</c> and <c>template</c>, an exec's <c>command</c>, <c>unless</c>,
/// <c>only_if</c> and the values of its <c>env</c>. A secret is written <c>!secret "value"</c>
/// (plaintext, which only the CLI and <c>mesh-node apply</c> accept) or is an envelope,
/// <c>!sealed "mesh-sealed:v1:..."</c>; a node's API refuses plaintext.
/// </summary>
internal static class SecretPlacement
{
    public const string SecretTag = "!secret";
    public const string SealedTag = "!sealed";

    /// <summary>Per resource kind, the fields whose values may be secrets.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> SealableFields = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [FileResource.KindName] = ["content", "template"],
        [ExecResource.KindName] = ["command", "unless", "only_if", "env"],
    };

    public const string WhereAllowed = "secrets may be values under vars, a file's content or template, an exec's command, unless, only_if or env values";

    /// <summary>
    /// What the walk found. <see cref="Positions"/> are the places it reported (<see cref="Reported"/>),
    /// so that other errors at those places, about what an envelope fails to be there, can be dropped.
    /// </summary>
    public sealed class Findings
    {
        public bool Sealed { get; set; }
        public HashSet<(int Line, int Column)> Positions { get; } = [];
        public HashSet<ManifestError> Reported { get; } = new(ReferenceEqualityComparer.Instance);
    }

    public static Findings Check(YamlMappingNode root, ParseContext context, bool plaintextAllowed)
    {
        var findings = new Findings();
        var walk = new Walk(context, plaintextAllowed, findings);
        foreach (var (key, value) in root.Children)
        {
            walk.Visit(key, "", allowed: false);
            var name = (key as YamlScalarNode)?.Value ?? "";
            switch (name)
            {
                case "vars":
                    walk.Visit(value, "vars", allowed: true);
                    break;
                case "resources" when value is YamlSequenceNode resources:
                    for (var i = 0; i < resources.Children.Count; i++)
                        walk.Resource(resources.Children[i], i);
                    break;
                default:
                    walk.Visit(value, name, allowed: false);
                    break;
            }
        }
        return findings;
    }

    private sealed class Walk(ParseContext context, bool plaintextAllowed, Findings findings)
    {
        public void Resource(YamlNode node, int index)
        {
            var field = $"resources[{index}]";
            if (node is not YamlMappingNode map)
            {
                Visit(node, field, allowed: false);
                return;
            }
            if (FieldReader.Child(map, "id") is YamlScalarNode { Value.Length: > 0 } id) field = $"resources[{index}] ({id.Value})";
            var kind = (FieldReader.Child(map, "type") as YamlScalarNode)?.Value ?? "";
            var sealable = SealableFields.GetValueOrDefault(kind, []);
            foreach (var (key, value) in map.Children)
            {
                Visit(key, field, allowed: false);
                var name = (key as YamlScalarNode)?.Value ?? "";
                Visit(value, $"{field}.{name}", allowed: sealable.Contains(name));
            }
        }

        /// <summary>Every scalar under <paramref name="node"/>; mapping keys never hold secrets.</summary>
        public void Visit(YamlNode node, string field, bool allowed)
        {
            switch (node)
            {
                case YamlScalarNode scalar:
                    Scalar(scalar, field, allowed);
                    break;
                case YamlMappingNode map:
                    Tagged(map, field);
                    foreach (var (key, value) in map.Children)
                    {
                        var name = (key as YamlScalarNode)?.Value ?? "";
                        Visit(key, $"{field}.{name}", allowed: false);
                        Visit(value, $"{field}.{name}", allowed);
                    }
                    break;
                case YamlSequenceNode list:
                    Tagged(list, field);
                    for (var i = 0; i < list.Children.Count; i++) Visit(list.Children[i], $"{field}[{i}]", allowed);
                    break;
            }
        }

        private void Tagged(YamlNode node, string field)
        {
            if (!node.Tag.IsEmpty && node.Tag.Value is SecretTag or SealedTag)
                Error(node, field, $"{node.Tag.Value} marks one value (a string), not a mapping or a list");
        }

        private void Scalar(YamlScalarNode scalar, string field, bool allowed)
        {
            var tag = scalar.Tag.IsEmpty ? "" : scalar.Tag.Value;
            var value = scalar.Value ?? "";
            if (tag == SecretTag)
            {
                if (!plaintextAllowed)
                    Error(scalar, field, "a plaintext secret (!secret) never goes to a node: push with the mesh CLI, which seals it for the nodes the manifest targets");
                else if (!allowed) Error(scalar, field, $"a secret cannot be used here ({WhereAllowed})");
                else if (FieldReader.IsNull(scalar)) Error(scalar, field, "!secret needs a value");
                else if (SecretBox.IsEnvelope(value)) Error(scalar, field, $"a secret's value cannot begin with '{SecretBox.Prefix}'");
                return;
            }
            if (tag != SealedTag && !SecretBox.IsEnvelope(value)) return;
            if (!allowed)
            {
                Error(scalar, field, $"a sealed value cannot be used here ({WhereAllowed})");
                return;
            }
            if (SecretBox.Problem(value) is { } problem)
            {
                Error(scalar, field, tag == SealedTag && !SecretBox.IsEnvelope(value)
                    ? "!sealed takes an envelope made by the mesh CLI; write the plaintext as !secret \"...\" and mesh push seals it"
                    : $"is not a valid sealed value: it {problem}");
                return;
            }
            findings.Sealed = true;
        }

        private void Error(YamlNode node, string field, string message)
        {
            context.Error(node, field, message);
            findings.Reported.Add(context.Errors[^1]);
            findings.Positions.Add(((int)node.Start.Line, (int)node.Start.Column));
        }
    }
}
