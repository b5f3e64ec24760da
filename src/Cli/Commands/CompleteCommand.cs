using System.CommandLine;
using System.CommandLine.Parsing;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh __complete -- WORD...</c>, hidden: what may stand at the cursor, for the scripts of
/// <c>mesh completion</c>. The words are the command line after <c>mesh</c>, the last one the
/// word under the cursor (empty after a space). The answer comes from the command tree itself
/// (commands, flags, fixed values) and from the node (manifest and node names, see
/// <see cref="NodeCompletions"/>): one candidate per line, <c>candidate TAB description</c>, or
/// the single line <c>:files</c> when the word is a path, which the shell completes itself.
/// </summary>
public static class CompleteCommand
{
    public const string Name = "__complete";
    public const string Files = ":files";

    public static Command Create(CliRunner run)
    {
        var words = new Argument<string[]>("words") { Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(Name, "complete a command line (used by the scripts of mesh completion)") { words };
        command.Hidden = true;
        command.SetAction((parse, cancel) => run.Invoke(parse, ctx =>
        {
            var line = parse.GetValue(words) is { Length: > 0 } given ? given : [""];
            foreach (var item in Candidates(parse.RootCommandResult.Command, line[..^1], line[^1]))
                ctx.Out.WriteLine(item);
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>The lines to print for <paramref name="word"/> after the words <paramref name="before"/>.</summary>
    internal static IEnumerable<string> Candidates(Command root, string[] before, string word)
    {
        // Parsed with an empty last word, the line says which symbol takes the word whatever
        // its first letters; those letters then pick among the candidates.
        var completing = root.Parse([.. before, ""]);
        // After a bare flag (--json) the library would read the word as the flag's value and
        // offer true and false; what may follow is whatever the command takes, as after an
        // explicit value. (Checked first: on a command with options of its own, the empty word
        // parsed as the flag's value hides them.)
        var bare = root.Parse(before);
        if (bare.Tokens.LastOrDefault() is { Type: TokenType.Option } last
            && bare.CommandResult.Command.Options.Concat(root.Options).FirstOrDefault(o => o.Name == last.Value || o.Aliases.Contains(last.Value)) is { ValueType: var type }
            && type == typeof(bool))
            completing = root.Parse([.. before, "true", ""]);
        var taker = completing.CommandResult.Children.FirstOrDefault(c => c.Tokens.Contains(completing.Tokens[^1])) switch
        {
            ArgumentResult a => (Symbol)a.Argument,
            OptionResult o => o.Option,
            _ => null,
        };
        if (taker is Argument { ValueType: var argumentType, HelpName: var argumentHelp } && IsPath(argumentType, argumentHelp)
            || taker is Option { ValueType: var optionType, HelpName: var optionHelp } && IsPath(optionType, optionHelp))
            return [Files];
        // The library offers an option's own values only while the option still lacks them.
        if (taker is Option) completing = root.Parse(before);
        return completing.GetCompletions()
            // Flags only once a dash is typed, as most tools do; the help aliases -? and /? never.
            .Where(i => i.Label.StartsWith(word, StringComparison.Ordinal) && (word.StartsWith('-') || !i.Label.StartsWith('-'))
                && !i.Label.StartsWith('/') && !i.Label.Contains('?'))
            .Select(i => string.IsNullOrEmpty(i.Detail) ? i.Label : $"{i.Label}\t{OneLine(i.Detail)}")
            .ToArray();
    }

    private static bool IsPath(Type type, string? helpName) =>
        type == typeof(FileInfo) || type == typeof(FileInfo[]) || type == typeof(DirectoryInfo) || helpName is "file" or "dir";

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Replace('\t', ' ');
}
