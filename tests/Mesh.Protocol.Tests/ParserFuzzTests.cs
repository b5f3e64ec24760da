using System.Text;
using CsCheck;
using Mesh.Fuzzing;
using Mesh.Protocol.Manifests;
using Xunit.Abstractions;

namespace Mesh.Protocol.Tests;

/// <summary>
/// Whatever text arrives, the parser answers with a manifest or with a <see cref="ManifestException"/>
/// whose every error says what is wrong and where (the file, and a line and column inside the
/// text when it gives one) — never with another exception, never after unbounded time — and a
/// manifest it accepts survives its canonical form (ToBytes → FromBytes → the same bytes).
/// Inputs are generated from fixed seeds (see <see cref="FuzzCases"/>): every run checks the same cases.
/// </summary>
public class ParserFuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(10);

    private enum Outcome { Parsed, Refused }

    /// <summary>Parses one input and checks the outcome; any other exception fails with what it was.</summary>
    private static Outcome ParseAndCheck(string text, string source)
    {
        // The CLI asks this of every file before the node has seen it: it answers, whatever the text.
        try
        {
            ManifestParser.SourcesNamedBy(text);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"SourcesNamedBy threw {e.GetType().FullName}: {e.Message}", e);
        }

        Manifest manifest;
        try
        {
            manifest = ManifestParser.Parse(text, source);
        }
        catch (ManifestException e)
        {
            AssertWellFormed(e, text, source);
            return Outcome.Refused;
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"the parser threw {e.GetType().FullName} instead of a manifest or a ManifestException: {e.Message}", e);
        }

        byte[] bytes, again;
        try
        {
            bytes = CanonicalForm.ToBytes(manifest);
            again = CanonicalForm.ToBytes(CanonicalForm.FromBytes(bytes, "canonical"));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"the parsed manifest '{manifest.Name}' does not survive its canonical form: {e.GetType().Name}: {e.Message}", e);
        }
        if (!bytes.AsSpan().SequenceEqual(again))
            throw new InvalidOperationException($"canonical bytes change on a round trip:\n{Encoding.UTF8.GetString(bytes)}\n{Encoding.UTF8.GetString(again)}");
        return Outcome.Parsed;
    }

    /// <summary>Every error names the file and says something; a position, when given, lies inside the text.</summary>
    private static void AssertWellFormed(ManifestException e, string text, string source)
    {
        if (e.Errors.Count == 0) throw new InvalidOperationException("a ManifestException without any error");
        var lines = LineLengths(text);
        foreach (var error in e.Errors)
        {
            if (error.Source != source) throw new InvalidOperationException($"the error names '{error.Source}' instead of the file '{source}': {error}");
            if (string.IsNullOrWhiteSpace(error.Message)) throw new InvalidOperationException($"an error without a message: {error}");
            if ((error.Line == 0) != (error.Column == 0)) throw new InvalidOperationException($"an error with half a position: {error}");
            if (error.Line == 0) continue;
            // YamlDotNet counts lines from 1; a mark may sit just past the last character.
            if (error.Line < 1 || error.Line > lines.Count + 1)
                throw new InvalidOperationException($"line {error.Line} is outside a text of {lines.Count} lines: {error}");
            var length = error.Line <= lines.Count ? lines[error.Line - 1] : 0;
            if (error.Column < 1 || error.Column > length + 1)
                throw new InvalidOperationException($"column {error.Column} is outside line {error.Line} ({length} characters): {error}");
        }
    }

    /// <summary>The length of every line, line breaks counted as YAML counts them.</summary>
    private static List<int> LineLengths(string text)
    {
        var lengths = new List<int>();
        var current = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '\n' or '\r' or '\u0085' or '\u2028' or '\u2029')
            {
                lengths.Add(current);
                current = 0;
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
            }
            else current++;
        }
        lengths.Add(current);
        return lengths;
    }

    /// <summary>Runs the parser over the cases and returns how many parsed and how many were refused.</summary>
    private (int Parsed, int Refused) Run(string what, Gen<string> inputs, ulong seed, int count)
    {
        int parsed = 0, refused = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        FuzzCases.Check(what, inputs, seed, count, PerCase, text =>
        {
            if (ParseAndCheck(text, "fuzz/case.yaml") == Outcome.Parsed) Interlocked.Increment(ref parsed);
            else Interlocked.Increment(ref refused);
        }, text => text);
        output.WriteLine($"{what}: {FuzzCases.Count(count)} cases from seed {FuzzCases.Seed(seed)} in {clock.Elapsed.TotalSeconds:0.0} s: {parsed} parsed, {refused} refused");
        return (parsed, refused);
    }

    // ---- (a) random text ---------------------------------------------------------------------------

    /// <summary>Random bytes read as UTF-8 (invalid sequences become U+FFFD, as a request body would).</summary>
    private static readonly Gen<string> RandomBytes = Gen.Byte.Array[0, 300].Select(b => Encoding.UTF8.GetString(b));

    /// <summary>Random characters of the whole UTF-16 range, lone surrogates included.</summary>
    private static readonly Gen<string> RandomChars = Gen.String[Gen.Char, 0, 300];

    /// <summary>Random text made mostly of the characters YAML gives a meaning to.</summary>
    private static readonly Gen<string> YamlishChars = Gen.String[Gen.Frequency(
        (4, Gen.Char[" \n-:#&*!|>'\"%@`,[]{}?\t~\\"]),
        (4, Gen.Char.AlphaNumeric),
        (1, Gen.Char)), 0, 300];

    /// <summary>Random lines of manifest words and YAML punctuation, with random indentation.</summary>
    private static readonly Gen<string> WordSoup = Gen.Select(
        Gen.Int[0, 8], Gen.OneOf([.. FuzzYaml.ResourceFields, "manifest", "resources", "vars", "target", "-", "- id:", "type:", "&a", "*a", "!!str", "|", ">", "[", "]", "{", "}", ":", ",", "?", "---", "...", "#"]).Array[0, 6])
        .List[0, 20]
        .Select(lines => string.Concat(lines.Select(l => new string(' ', l.Item1) + string.Join(' ', l.Item2) + "\n")));

    [Fact]
    public void Random_bytes_and_characters_give_a_manifest_or_a_manifest_error_naming_the_file()
    {
        var (parsed, refused) = Run("random text", Gen.OneOf(RandomBytes, RandomChars, YamlishChars, WordSoup), seed: 20261127, count: 3000);

        Assert.True(refused > 0, $"no random text was refused ({parsed} parsed): the check saw no error to inspect");
    }

    // ---- (b) structured documents ------------------------------------------------------------------

    [Fact]
    public void Generated_manifest_documents_give_a_manifest_or_a_located_error()
    {
        var (parsed, refused) = Run("manifest-shaped YAML", FuzzYaml.ManifestText, seed: 4711, count: 3000);

        // Both outcomes must occur, or the generator does not reach what it claims to test.
        Assert.True(parsed > 0 && refused > 0, $"{parsed} parsed, {refused} refused: the generator should give both");
    }

    [Fact]
    public void Plausible_manifests_of_every_kind_survive_their_canonical_form()
    {
        var (parsed, refused) = Run("plausible manifests", FuzzYaml.PlausibleManifestText, seed: 1000, count: 2000);

        // Many must parse, or the round trip is hardly checked (about half do: aliases, tags and odd text refuse the others).
        Assert.True(parsed >= FuzzCases.Count(2000) / 3, $"only {parsed} of {parsed + refused} plausible manifests parsed");
    }

    [Theory]
    [InlineData(ManifestParser.MaxDepth - 4, true)]
    [InlineData(ManifestParser.MaxDepth - 3, true)]
    [InlineData(ManifestParser.MaxDepth - 3, false)]
    [InlineData(ManifestParser.MaxDepth - 2, true)]
    [InlineData(ManifestParser.MaxDepth - 2, false)]
    [InlineData(5000, true)]
    public void Nesting_around_the_limit_parses_or_is_refused_with_a_located_error(int levels, bool flow)
    {
        // The root mapping is level 1 and "vars" level 2: the scalar at the bottom of n nested lists is at level n + 3.
        var doc = new YMap([(new YScalar("manifest", ScalarStyle.Plain), new YScalar("deep", ScalarStyle.Plain)),
            (new YScalar("vars", ScalarStyle.Plain), new YMap([(new YScalar("x", ScalarStyle.Plain), FuzzYaml.NestedSeq(levels, flow))], false))], false);
        var text = FuzzYaml.Write(doc);

        var outcome = ParseAndCheck(text, "fuzz/deep.yaml");

        Assert.Equal(levels + 3 <= ManifestParser.MaxDepth ? Outcome.Parsed : Outcome.Refused, outcome);
    }

    // ---- (c) mutations of the examples -------------------------------------------------------------

    /// <summary>The example manifests shipped in examples/, and the canonical form of each (also parsed by nodes).</summary>
    private static readonly string[] Examples = LoadExamples();

    private static string[] LoadExamples()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Mesh.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("Mesh.sln not found above the test binaries");
        // A node receives examples with secrets sealed, as the CLI sends them.
        using var node = System.Security.Cryptography.ECDiffieHellman.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var yaml = Directory.GetFiles(Path.Combine(dir.FullName, "examples"), "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => Mesh.Protocol.Secrets.SecretSealer.Seal(File.ReadAllText(f), f, _ => [node.ExportSubjectPublicKeyInfo()]).Text).ToArray();
        var canonical = yaml.Select(y => Encoding.UTF8.GetString(CanonicalForm.ToBytes(ManifestParser.Parse(y, "example.yaml"))));
        return [.. yaml, .. canonical];
    }

    private enum Edit { DeleteLine, DuplicateLine, SwapLines, FlipChar, InsertChar, DeleteChar, Indent, Dedent, Truncate, SpliceLine }

    /// <summary>One edit, with two positions and a character to use (each edit takes what it needs).</summary>
    private static readonly Gen<(Edit Edit, int A, int B, char C)> OneEdit = Gen.Select(
        Gen.Enum<Edit>(), Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue],
        Gen.Frequency((3, Gen.Char[" \n-:#&*!|>'\"[]{},?\t"]), (2, Gen.Char.AlphaNumeric), (1, Gen.Char)));

    private static string Apply(string text, (Edit Edit, int A, int B, char C) e)
    {
        var lines = text.Split('\n').ToList();
        int Line(int n) => n % lines.Count;
        int Pos(int n) => text.Length == 0 ? 0 : n % text.Length;
        switch (e.Edit)
        {
            case Edit.DeleteLine when lines.Count > 1: lines.RemoveAt(Line(e.A)); break;
            case Edit.DuplicateLine: lines.Insert(Line(e.A), lines[Line(e.A)]); break;
            case Edit.SwapLines: (lines[Line(e.A)], lines[Line(e.B)]) = (lines[Line(e.B)], lines[Line(e.A)]); break;
            case Edit.Indent: lines[Line(e.A)] = new string(' ', 1 + e.B % 4) + lines[Line(e.A)]; break;
            case Edit.Dedent: lines[Line(e.A)] = lines[Line(e.A)].TrimStart(); break;
            case Edit.SpliceLine: lines.Insert(Line(e.A), lines[Line(e.B)][..(e.B % (lines[Line(e.B)].Length + 1))]); break;
            case Edit.FlipChar when text.Length > 0: return text[..Pos(e.A)] + e.C + text[(Pos(e.A) + 1)..];
            case Edit.InsertChar: return text[..Pos(e.A)] + e.C + text[Pos(e.A)..];
            case Edit.DeleteChar when text.Length > 0: return text[..Pos(e.A)] + text[(Pos(e.A) + 1)..];
            case Edit.Truncate: return text[..Pos(e.A)];
        }
        return string.Join('\n', lines);
    }

    private static readonly Gen<string> MutatedExample = Gen.Select(Gen.OneOf(Examples), OneEdit.Array[1, 4],
        (example, edits) => edits.Aggregate(example, Apply));

    [Fact]
    public void Mutated_example_manifests_give_a_manifest_or_a_manifest_error_naming_the_file()
    {
        Assert.All(Examples, e => Assert.Equal(Outcome.Parsed, ParseAndCheck(e, "examples/x.yaml")));

        var (parsed, refused) = Run("mutated examples", MutatedExample, seed: 1795757090, count: 3000);

        Assert.True(parsed > 0 && refused > 0, $"{parsed} parsed, {refused} refused: the mutations should give both");
    }
}
