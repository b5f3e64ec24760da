using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mesh.Node.Facts;

/// <summary>
/// Custom facts, as Salt's custom grains and Puppet's external facts: every file of the facts
/// directory (<c>mesh.facts.directory</c>, default <c>&lt;config-dir&gt;/facts.d</c>) adds facts. An
/// executable file is run (no arguments, within the timeout) and its output read; any other file
/// is read as it is. Either holds a JSON object, or <c>key=value</c> lines (blank lines and lines
/// starting with <c>#</c> skipped; values are strings). Files are read in name order and a later
/// file's fact wins. A file that fails is named in <see cref="Result.Errors"/>; it never stops the others.
/// </summary>
public static class CustomFacts
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>More output than this from one file is refused: facts are small.</summary>
    public const int MaxOutput = 16 * 1024;

    public sealed record Result(JsonObject Values, IReadOnlyDictionary<string, string> Origin, IReadOnlyList<string> Errors);

    public static Result Read(string directory, TimeSpan timeout)
    {
        var values = new JsonObject();
        var origin = new Dictionary<string, string>(StringComparer.Ordinal);
        var errors = new List<string>();
        if (!Directory.Exists(directory)) return new Result(values, origin, errors);
        string[] files;
        try
        {
            files = Directory.GetFiles(directory).Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith('~')).Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{directory}: {e.Message}");
            return new Result(values, origin, errors);
        }
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            try
            {
                var text = Executable(file) ? Run(file, timeout) : File.ReadAllText(file);
                if (text.Length > MaxOutput) throw new FactException($"more than {MaxOutput} bytes");
                foreach (var (key, value) in Parse(text))
                {
                    values[key] = value;
                    origin[key] = name;
                }
            }
            catch (Exception e) when (e is FactException or IOException or UnauthorizedAccessException or JsonException or System.ComponentModel.Win32Exception)
            {
                errors.Add($"facts.d/{name}: {e.Message}");
            }
        }
        return new Result(values, origin, errors);
    }

    private static bool Executable(string file) => (File.GetUnixFileMode(file) & UnixFileMode.UserExecute) != 0;

    /// <summary>A JSON object, or key=value lines.</summary>
    public static IEnumerable<(string Key, JsonNode? Value)> Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith('{'))
        {
            if (JsonNode.Parse(trimmed) is not JsonObject o) throw new FactException("the output is not a JSON object");
            var pairs = o.Select(kv => (kv.Key, kv.Value?.DeepClone())).ToArray();
            foreach (var (key, _) in pairs) CheckKey(key);
            return pairs;
        }
        var result = new List<(string, JsonNode?)>();
        var number = 0;
        foreach (var raw in trimmed.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var eq = line.IndexOf('=');
            if (eq <= 0) throw new FactException($"line {number}: expected key=value or a JSON object, got '{(line.Length > 40 ? line[..40] + "..." : line)}'");
            var key = line[..eq].Trim();
            CheckKey(key);
            result.Add((key, JsonValue.Create(line[(eq + 1)..].Trim())));
        }
        return result;
    }

    /// <summary>A fact's name is what a target's dotted path can reach.</summary>
    private static void CheckKey(string key)
    {
        if (key.Length == 0 || key.Length > 64 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            throw new FactException($"'{key}' is not a fact name (letters, digits, '_' and '-', at most 64)");
    }

    private static string Run(string file, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        using var process = Process.Start(info) ?? throw new FactException("could not be started");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new FactException($"still ran after {timeout.TotalSeconds:0.#} s; killed");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            var first = error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim();
            throw new FactException($"exit {process.ExitCode}{(first is null ? "" : $": {first}")}");
        }
        return output.Result;
    }
}

/// <summary>A custom fact could not be read; the message says why.</summary>
public sealed class FactException(string message) : Exception(message);
