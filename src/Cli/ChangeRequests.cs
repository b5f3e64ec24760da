using System.Net;
using Mesh.Protocol.Api;

namespace Mesh.Cli;

/// <summary>What every command that makes or tries a change sends: who makes it, and the files as they leave this machine.</summary>
public static class ChangeRequests
{
    /// <summary>Who makes a change, kept with every revision it makes: <c>user@host</c>.</summary>
    public static string Author => $"{Environment.UserName}@{Dns.GetHostName()}";

    /// <summary>
    /// A push (or a dry run) of these files: each read once with the files its sources attach,
    /// and its secrets sealed; the text in the request is the text that is hashed and signed.
    /// </summary>
    public static async Task<PushRequest> ReadAsync(CliContext ctx, IEnumerable<FileInfo> files, string? message, CancellationToken cancel) =>
        new(await ManifestSealing.SealAsync(ctx, ManifestFiles.Read(files), cancel), message, Author);
}
