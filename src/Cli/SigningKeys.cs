using Mesh.Protocol.Signing;

namespace Mesh.Cli;

/// <summary>Where the CLI finds the operator's signing key, read once per command.</summary>
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
}
