using System.Globalization;
using System.Text.RegularExpressions;

namespace Mesh.Node.Tests.Support;

/// <summary>
/// A strict reader of Prometheus' text exposition format (0.0.4), for tests: every line is a
/// HELP or TYPE comment or a sample <c>name{label="value",...} value</c>, every sample belongs
/// to a family with a TYPE line, and anything else throws. Shared by the in-process and the
/// end-to-end tests.
/// </summary>
public sealed partial class PrometheusText
{
    private readonly List<(string Name, IReadOnlyDictionary<string, string> Labels, double Value)> _samples = [];

    public IReadOnlyDictionary<string, string> Types { get; }

    private PrometheusText(Dictionary<string, string> types) => Types = types;

    public static PrometheusText Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var parsed = new PrometheusText(types);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            if (TypeLine().Match(line) is { Success: true } type)
            {
                Assert.True(types.TryAdd(type.Groups["name"].Value, type.Groups["type"].Value), $"two TYPE lines for {type.Groups["name"].Value}");
                continue;
            }
            if (HelpLine().IsMatch(line)) continue;
            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"not a Prometheus text line: '{line}'");
            var name = sample.Groups["name"].Value;
            Assert.True(types.ContainsKey(name) || types.ContainsKey(FamilyOf(name)), $"sample '{name}' comes before or without its TYPE line");
            var labels = sample.Groups["key"].Captures.Zip(sample.Groups["value"].Captures)
                .ToDictionary(kv => kv.First.Value, kv => Regex.Unescape(kv.Second.Value), StringComparer.Ordinal);
            parsed._samples.Add((name, labels, ParseValue(sample.Groups["number"].Value)));
        }
        return parsed;
    }

    /// <summary>The value of the one sample of <paramref name="name"/> with these labels (others ignored), or null.</summary>
    public double? Value(string name, params (string Key, string Value)[] labels)
    {
        var found = _samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).ToArray();
        Assert.True(found.Length <= 1, $"{found.Length} samples of {name} match");
        return found.Length == 0 ? null : found[0].Value;
    }

    private static string FamilyOf(string sample) =>
        new[] { "_bucket", "_sum", "_count" }.FirstOrDefault(sample.EndsWith) is { } suffix ? sample[..^suffix.Length] : sample;

    private static double ParseValue(string number) => number switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex(@"^# TYPE (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<type>counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$")]
    private static partial Regex HelpLine();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(\\.|[^"\\])*)"(,|(?=\})))*\})? (?<number>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]Inf|NaN)( -?\d+)?$""")]
    private static partial Regex SampleLine();
}
