using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mesh.Protocol.Manifests;

/// <summary>How a <see cref="FactCondition"/> compares a fact with its value.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Api.SnakeCaseEnum<FactOperator>))]
public enum FactOperator { Equal, NotEqual, Greater, GreaterOrEqual, Less, LessOrEqual, Glob }

/// <summary>
/// One condition of a target's <c>facts:</c> section: a fact (a dotted path into the node's facts,
/// e.g. <c>memory_mb</c> or <c>app.tier</c>), an operator written as the key's suffix, and a value.
/// <c>os: debian</c> (equal), <c>"os!=": debian</c>, <c>"memory_mb>=": 4096</c> (numbers),
/// <c>"kernel~": "6.*"</c> (glob). A fact that is a list holds <c>=</c> and <c>~</c> when one of its
/// items does, and <c>!=</c> when none does. A fact the node does not have holds only <c>!=</c>.
/// </summary>
public sealed partial record FactCondition(string Path, FactOperator Operator, string Value)
{
    /// <summary>The operators, longest first so that <c>&gt;=</c> is not read as <c>&gt;</c>.</summary>
    private static readonly (string Text, FactOperator Op)[] Operators =
    [
        ("!=", FactOperator.NotEqual), (">=", FactOperator.GreaterOrEqual), ("<=", FactOperator.LessOrEqual),
        ("=", FactOperator.Equal), (">", FactOperator.Greater), ("<", FactOperator.Less), ("~", FactOperator.Glob),
    ];

    public const string OperatorList = "= (the default), !=, >, >=, <, <=, ~ (glob)";

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)*")]
    private static partial Regex PathPattern();

    /// <summary>Reads a key and its value; an unknown operator, a bad path or a non-number for an order operator is the error message.</summary>
    public static FactCondition Parse(string key, string value, out string? error)
    {
        error = null;
        var path = PathPattern().Match(key.Trim());
        if (!path.Success)
        {
            error = $"'{key}' does not name a fact (a fact is letters, digits, '_' and '-', nested with '.', then an operator: {OperatorList})";
            return new FactCondition(key, FactOperator.Equal, value);
        }
        var suffix = key.Trim()[path.Length..].Trim();
        var op = FactOperator.Equal;
        if (suffix.Length > 0)
        {
            var known = Array.FindIndex(Operators, o => o.Text == suffix);
            if (known < 0)
            {
                error = $"unknown fact operator '{suffix}' in '{key}' (operators: {OperatorList})";
                return new FactCondition(path.Value, op, value);
            }
            op = Operators[known].Op;
        }
        if (op is FactOperator.Greater or FactOperator.GreaterOrEqual or FactOperator.Less or FactOperator.LessOrEqual && Number(value) is null)
            error = $"'{key}' compares numbers, and '{value}' is not a number";
        return new FactCondition(path.Value, op, value);
    }

    /// <summary>Whether the facts hold the condition; null facts (not known) hold nothing.</summary>
    public bool Matches(JsonObject? facts)
    {
        if (facts is null) return false;
        var fact = Lookup(facts, Path);
        if (fact is null) return Operator == FactOperator.NotEqual;
        var items = fact is JsonArray list ? list.Select(Text).ToArray() : [Text(fact)];
        return Operator switch
        {
            FactOperator.Equal => items.Any(i => i == Value),
            FactOperator.NotEqual => items.All(i => i != Value),
            FactOperator.Glob => items.Any(i => i is not null && Glob.IsMatch(Value, i)),
            _ => items.Length == 1 && Number(items[0]) is { } n && Number(Value) is { } v && Operator switch
            {
                FactOperator.Greater => n > v,
                FactOperator.GreaterOrEqual => n >= v,
                FactOperator.Less => n < v,
                _ => n <= v,
            },
        };
    }

    /// <summary>The value at a dotted path, or null.</summary>
    public static JsonNode? Lookup(JsonObject facts, string path)
    {
        JsonNode? node = facts;
        foreach (var part in path.Split('.'))
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var child) ? child : null;
        return node;
    }

    /// <summary>The key as written: path and operator.</summary>
    public string Key => Path + (Operators.First(o => o.Op == Operator).Text is var t && t == "=" ? "" : t);

    public override string ToString() => $"{Path}{Operators.First(o => o.Op == Operator).Text}{Value}";

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        _ => node.ToJsonString(),
    };

    private static decimal? Number(string? text) =>
        decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;
}
