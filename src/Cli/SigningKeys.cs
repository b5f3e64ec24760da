using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;

namespace Mesh.Cli;

/// <summary>Where the CLI finds the operator's signing key, and how it signs what it sends.</summary>
public static class SigningKeys
{
    public const string DefaultPathForHelp = "~/.config/mesh/signing.key";

    /// <summary><c>$XDG_CONFIG_HOME/mesh/signing.key</c>, else <c>~/.config/mesh/signing.key</c>.</summary>
    public static string DefaultPath
    {
        get
        {
            var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(config, "mesh", "signing.key");
        }
    }

    /// <summary>The key named by --key/$MESH_KEY (which must load), else the default file when present, else null.</summary>
    public static SigningKey? Load(string? path)
    {
        if (path is null && !File.Exists(DefaultPath)) return null;
        try
        {
            return SigningKey.Load(path ?? DefaultPath);
        }
        catch (SigningException e)
        {
            throw new CliException(ExitCodes.Invalid, e.Message);
        }
    }

    /// <summary>
    /// Signs each manifest's name and canonical hash, computed here exactly as the node will
    /// (same parser, same canonical form), so the node can check the body it stores is the one
    /// that was signed. A file that does not parse is left unsigned: the node names its errors.
    /// </summary>
    public static PushRequest Sign(PushRequest request, SigningKey key)
    {
        var signatures = new Dictionary<string, RevisionSignature>(StringComparer.Ordinal);
        foreach (var file in request.Manifests)
        {
            var attached = (file.Attachments ?? []).ToDictionary(a => a.Key, a => CanonicalForm.Hash(a.Value), StringComparer.Ordinal);
            try
            {
                var manifest = ManifestParser.Parse(file.Text, file.File, name => attached.GetValueOrDefault(name));
                var hash = CanonicalForm.Hash(CanonicalForm.ToBytes(manifest));
                signatures[manifest.Name] = RevisionSignature.Make(key, RevisionSignature.ContentStatement(manifest.Name, hash));
            }
            catch (ManifestException)
            {
            }
        }
        return request with { Signatures = signatures };
    }
}
