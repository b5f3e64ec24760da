using YamlDotNet.RepresentationModel;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// Reads the fields of one YAML mapping, records every problem with its line, and at the end
/// reports the fields nobody asked for: an unknown field is an error, never silently ignored.
/// </summary>
internal sealed class FieldReader(YamlMappingNode map, string path, ParseContext context)
{
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public string Path => path;
    public YamlMappingNode Node => map;
    public ParseContext Context => context;

    public string Field(string key) => path.Length == 0 ? key : $"{path}.{key}";

    public YamlNode? Raw(string key)
    {
        _known.Add(key);
        return Child(map, key);
    }

    public static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public string? String(string key, bool required = false)
    {
        var node = Raw(key);
        if (node is null)
        {
            if (required) context.Error(map, Field(key), "is required");
            return null;
        }
        if (node is YamlScalarNode scalar && !IsNull(scalar)) return scalar.Value ?? "";
        context.Error(node, Field(key), "must be a string");
        return null;
    }

    public bool? Bool(string key)
    {
        var text = String(key);
        if (text is null) return null;
        switch (text.ToLowerInvariant())
        {
            case "true" or "yes" or "on": return true;
            case "false" or "no" or "off": return false;
            default:
                context.Error(Raw(key)!, Field(key), $"'{text}' is not a boolean (true or false)");
                return null;
        }
    }

    public string[] StringList(string key)
    {
        var node = Raw(key);
        switch (node)
        {
            case null: return [];
            case YamlScalarNode scalar when IsNull(scalar): return [];
            case YamlScalarNode scalar: return [scalar.Value ?? ""];
            case YamlSequenceNode seq:
                var items = new List<string>();
                for (var i = 0; i < seq.Children.Count; i++)
                {
                    if (seq.Children[i] is YamlScalarNode s && !IsNull(s)) items.Add(s.Value ?? "");
                    else context.Error(seq.Children[i], $"{Field(key)}[{i}]", "must be a string");
                }
                return items.ToArray();
            default:
                context.Error(node, Field(key), "must be a list of strings");
                return [];
        }
    }

    public Dictionary<string, string> StringMap(string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var node = Raw(key);
        if (node is null || node is YamlScalarNode s0 && IsNull(s0)) return result;
        if (node is not YamlMappingNode m)
        {
            context.Error(node, Field(key), "must be a mapping of strings");
            return result;
        }
        foreach (var (k, v) in m.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            if (v is YamlScalarNode sv && !IsNull(sv)) result[name] = sv.Value ?? "";
            else context.Error(v, $"{Field(key)}.{name}", "must be a string");
        }
        return result;
    }

    /// <summary>Reads <c>ensure: present|absent</c>, defaulting to present.</summary>
    public Ensure EnsureState(string key = "ensure")
    {
        var text = String(key);
        switch (text)
        {
            case null or "present": return Ensure.Present;
            case "absent": return Ensure.Absent;
            default:
                context.Error(Raw(key)!, Field(key), $"'{text}' is not one of: present, absent");
                return Ensure.Present;
        }
    }

    /// <summary>Reports every field of the mapping that no reader asked for.</summary>
    public void RejectUnknown()
    {
        foreach (var (k, _) in map.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? k.ToString();
            if (!_known.Contains(name))
                context.Error(k, Field(name), $"unknown field (expected one of: {string.Join(", ", _known.Order(StringComparer.Ordinal))})");
        }
    }

    public static bool IsNull(YamlScalarNode s) =>
        s.Style == YamlDotNet.Core.ScalarStyle.Plain && s.Value is null or "" or "~" or "null" or "Null" or "NULL";

}

/// <summary>The errors collected while parsing one source, plus the limits that keep hostile YAML harmless.</summary>
internal sealed class ParseContext(string source)
{
    public List<ManifestError> Errors { get; } = [];
    public string Source => source;

    /// <summary>Resolves a file a manifest names as <c>source</c> to the hash it was stored under; null when not sent.</summary>
    public Func<string, string?>? Attachments { get; init; }

    /// <summary>Whether <c>!secret</c> values are accepted (the CLI before sealing, <c>mesh-node apply</c>), not only sealed ones.</summary>
    public bool PlaintextSecrets { get; init; }

    public void Error(YamlNode node, string field, string message) => Error(node.Start, field, message);

    public void Error(YamlDotNet.Core.Mark at, string field, string message) =>
        Errors.Add(new ManifestError(source, (int)at.Line, (int)at.Column, field, message));

    public void Error(string field, string message) => Errors.Add(new ManifestError(source, 0, 0, field, message));
}
