using System.CommandLine;
using System.Text.Json;
using Mesh.Protocol.Api;
using Spectre.Console;

namespace Mesh.Cli;

/// <summary>The options every command takes, and how a command prints: tables for people, JSON with --json.</summary>
public sealed class GlobalOptions
{
    public const string DefaultApi = "127.0.0.1:4711";

    public Option<string> Api { get; } = new("--api")
    {
        Description = $"control API of the node to talk to, HOST:PORT (default $MESH_API or {DefaultApi})",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("MESH_API") is { Length: > 0 } env ? env : DefaultApi,
    };

    public Option<bool> Json { get; } = new("--json") { Description = "print JSON instead of tables", Recursive = true };

    public Option<string?> Key { get; } = new("--key")
    {
        HelpName = "file",
        Description = $"private key that signs pushes and deletions (default $MESH_KEY, else {SigningKeys.DefaultPathForHelp} when it exists)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("MESH_KEY") is { Length: > 0 } env ? env : null,
    };

    public Option<string?> TokenFile { get; } = new("--token-file")
    {
        HelpName = "file",
        Description = "file holding the node's API token, needed when its API is not on loopback (default $MESH_TOKEN_FILE)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("MESH_TOKEN_FILE") is { Length: > 0 } env ? env : null,
    };
}

/// <summary>What one command invocation works with.</summary>
public sealed class CliContext(ParseResult parse, GlobalOptions globals, TextWriter output, TextWriter error) : IDisposable
{
    private readonly Lazy<MeshClient> _client = new(() => new MeshClient(parse.GetValue(globals.Api)!, ReadToken(parse.GetValue(globals.TokenFile)), error));

    private static string? ReadToken(string? file)
    {
        if (file is null) return null;
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Invalid, $"--token-file {file}: {e.Message}");
        }
    }
    private readonly Lazy<IAnsiConsole> _console = new(() => CreateConsole(output));

    private static IAnsiConsole CreateConsole(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            // Escape codes only for a person at a terminal: never into pipes, files or NO_COLOR shells.
            Ansi = Plain(output) ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = Plain(output) ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        });
        // Into a pipe or a file, rows are never wrapped or cut to a terminal's width.
        if (Plain(output)) console.Profile.Width = 4096;
        return console;
    }

    private static bool Plain(TextWriter output) =>
        output != System.Console.Out || System.Console.IsOutputRedirected || Environment.GetEnvironmentVariable("NO_COLOR") is not null;

    public MeshClient Client => _client.Value;

    /// <summary>A person at a terminal reads the output: a progress line may be rewritten in place.</summary>
    public bool Interactive => !Plain(output);

    /// <summary>The signing key (loaded once), or null when none is given and the default file is absent.</summary>
    public Mesh.Protocol.Signing.SigningKey? SigningKey => _key.Value;

    private readonly Lazy<Mesh.Protocol.Signing.SigningKey?> _key = new(() => SigningKeys.Load(parse.GetValue(globals.Key)));
    public bool Json => parse.GetValue(globals.Json);
    public ParseResult Parse => parse;
    public TextWriter Out => output;
    public TextWriter Error => error;
    public IAnsiConsole Console => _console.Value;

    public void WriteJson<T>(T value) => output.WriteLine(JsonSerializer.Serialize(value, CliJson.Info<T>()));

    /// <summary>A plain table: a header row and aligned columns, fit for a terminal and for grep.</summary>
    public void WriteTable(string[] headers, IEnumerable<string[]> rows)
    {
        var table = new Table().Border(TableBorder.None).HideRowSeparators();
        foreach (var h in headers) table.AddColumn(new TableColumn(new Text(h.ToUpperInvariant(), new Style(decoration: Decoration.Bold))).PadLeft(0).PadRight(2));
        foreach (var row in rows) table.AddRow(row.Select(c => new Text(c)).ToArray<Spectre.Console.Rendering.IRenderable>());
        Console.Write(table);
    }

    public void Dispose()
    {
        if (_client.IsValueCreated) _client.Value.Dispose();
        if (_key.IsValueCreated) _key.Value?.Dispose();
    }
}
