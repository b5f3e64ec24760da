using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Secrets;

namespace Mesh.Cli;

/// <summary>
/// Seals the <c>!secret</c> values of the manifests about to be sent, before the text leaves
/// this machine: each manifest's secrets for the members its target selects now (chosen as the
/// node chooses them: up, weakly up or joining), with the public keys those members publish.
/// What is sent, hashed and signed is the sealed text; a node never receives plaintext.
/// </summary>
public static class ManifestSealing
{
    /// <summary>The files as they are to be sent: those that hold secrets sealed, the rest as read.</summary>
    /// <exception cref="CliException">a file that may hold secrets does not parse, or its secrets have nobody to be sealed for: nothing is sent.</exception>
    public static async Task<ManifestFile[]> SealAsync(CliContext ctx, ManifestFile[] files, CancellationToken cancel)
    {
        if (!files.Any(f => SecretSealer.MayHoldSecrets(f.Text))) return files;
        var found = files.Select(Find).ToArray();
        // Asked for only once a file with secrets has parsed: a broken file is refused here, node or not.
        var members = found.Any(f => f.Secrets?.Count > 0)
            ? (await ctx.Client.MembersAsync(facts: true, target: null, cancel)).Where(m => m.Status is "up" or "weaklyup" or "joining").ToArray()
            : [];

        var errors = new List<ManifestError>();
        var sealedFiles = new List<ManifestFile>();
        foreach (var (file, secrets, parseErrors) in found)
        {
            if (secrets is null)
            {
                errors.AddRange(parseErrors!);
                continue;
            }
            try
            {
                var keys = secrets.Count == 0 ? [] : KeysFor(ctx, file.File, secrets.Manifest!, members);
                sealedFiles.Add(file with { Text = SecretSealer.Seal(secrets, keys).Text });
            }
            catch (ManifestException e)
            {
                errors.AddRange(e.Errors);
            }
        }
        if (errors.Count > 0) throw new CliException(ExitCodes.Invalid, $"{errors.Count} error(s) in the manifests; nothing was sent", errors);
        return sealedFiles.ToArray();
    }

    private static (ManifestFile File, SecretsToSeal? Secrets, IReadOnlyList<ManifestError>? Errors) Find(ManifestFile file)
    {
        try
        {
            return (file, SecretSealer.Find(file.Text, file.File), null);
        }
        catch (ManifestException e)
        {
            return (file, null, e.Errors);
        }
    }

    /// <summary>The keys of the members a manifest targets; refuses when none of them has one.</summary>
    private static byte[][] KeysFor(CliContext ctx, string file, Manifest manifest, MemberInfo[] members)
    {
        var (targeted, keys) = MemberKeys(ctx, manifest.Target, members, $"the secrets of {manifest.Name}");
        if (keys.Length == 0)
            throw new ManifestException([new ManifestError(file, 0, 0, "target", targeted.Length == 0
                ? $"{manifest.Name} holds secrets, but no member is targeted ({manifest.Target}) to seal them for: nothing was sent"
                : $"{manifest.Name} holds secrets, but none of the targeted members ({string.Join(", ", targeted)}) publishes a key to seal them for: nothing was sent")]);
        return keys;
    }

    /// <summary>
    /// The names of the members <paramref name="target"/> selects, and the public keys of those
    /// that publish one (a member without warns): what a secret of <paramref name="what"/> is sealed to.
    /// </summary>
    public static (string[] Targeted, byte[][] Keys) MemberKeys(CliContext ctx, TargetSpec target, MemberInfo[] members, string what)
    {
        var targeted = members
            // A member whose facts the asked node does not know yet cannot be matched by facts: it gets no envelope.
            .Where(m => target.Matches(new NodeIdentity(m.Name, m.Roles.ToHashSet(StringComparer.Ordinal), m.Labels), m.Facts))
            .ToArray();
        var keyed = targeted.Where(m => m.Key is not null).ToArray();
        foreach (var m in targeted.Where(m => m.Key is null))
            ctx.Error.WriteLine($"mesh: warning: {m.Name} publishes no key (an older mesh-node?): it cannot open {what}");

        var keys = new List<byte[]>();
        foreach (var m in keyed)
        {
            try
            {
                var key = Convert.FromBase64String(m.Key!);
                SecretBox.ImportPublicKey(key).Dispose();
                keys.Add(key);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new CliException(ExitCodes.Failed, $"{m.Name} publishes a key that is not a P-256 public key ({e.Message}); nothing was sent");
            }
        }
        if (!ctx.Json && keys.Count > 0)
            ctx.Error.WriteLine($"sealing {what} for {string.Join(", ", keyed.Select(m => m.Name).Distinct().Order(StringComparer.Ordinal))}");
        return (targeted.Select(m => m.Name).Distinct().Order(StringComparer.Ordinal).ToArray(), keys.DistinctBy(Convert.ToBase64String).ToArray());
    }
}
