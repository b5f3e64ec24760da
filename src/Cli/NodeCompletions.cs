using System.CommandLine.Completions;
using System.Text.Json;

namespace Mesh.Cli;

/// <summary>
/// Manifest and node names for shell completion, asked of the node the command line being
/// completed names (its --api and --token-file, else MESH_API and MESH_TOKEN_FILE). A node that
/// is down, slow or refuses simply offers nothing: a shell waiting on TAB gets no error and no hang.
/// </summary>
public static class NodeCompletions
{
    /// <summary>How long one completion waits for the node.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(1);

    public static Func<CompletionContext, IEnumerable<CompletionItem>> ManifestNames(CliRunner run) =>
        context => Ask(run, context, async (client, cancel) =>
            (await client.ManifestsAsync(cancel)).Select(m => new CompletionItem(m.Revision.Manifest, detail: $"manifest, head {m.Revision.Version}")));

    public static Func<CompletionContext, IEnumerable<CompletionItem>> NodeNames(CliRunner run) =>
        context => Ask(run, context, async (client, cancel) =>
            (await client.MembersAsync(cancel)).Select(m => new CompletionItem(m.Name, detail: $"node, {m.Status}")));

    private static IEnumerable<CompletionItem> Ask(CliRunner run, CompletionContext context,
        Func<MeshClient, CancellationToken, Task<IEnumerable<CompletionItem>>> query)
    {
        // Help renders an argument's completions as its usage label, with this empty context:
        // `mesh get --help` must not call a node.
        if (ReferenceEquals(context, CompletionContext.Empty)) return [];
        try
        {
            using var cli = new CliContext(context.ParseResult, run.Globals, TextWriter.Null, TextWriter.Null);
            using var patience = new CancellationTokenSource(Patience);
            // Completion sources are synchronous; this runs in a console process with no
            // synchronization context, so blocking on the request cannot deadlock.
            return query(cli.Client, patience.Token).WaitAsync(Patience).GetAwaiter().GetResult().ToArray();
        }
        catch (Exception e) when (e is CliException or OperationCanceledException or TimeoutException or HttpRequestException or JsonException or IOException)
        {
            return [];
        }
    }
}
