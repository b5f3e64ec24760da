using System.CommandLine;
using Mesh.Protocol.Signing;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh keygen</c>: makes the ECDSA P-256 key pair an operator signs changes with. The
/// private key stays with the operator (mode 0600); the public key goes into the nodes'
/// <c>mesh.trusted-keys</c>.
/// </summary>
public static class KeygenCommand
{
    /// <summary>What <c>mesh keygen --json</c> prints.</summary>
    public sealed record Generated(string KeyId, string PrivateKey, string PublicKey, string Spki, string Name);

    public static Command Create(CliRunner run)
    {
        var output = new Option<string?>("--out", "-o") { HelpName = "file", Description = $"private key file to write; the public key goes beside it as FILE.pub (default {SigningKeys.DefaultPathForHelp})" };
        var name = new Option<string>("--name") { Description = "the name nodes will know this key by in their trust list (default: your user name)", DefaultValueFactory = _ => Environment.UserName };
        var force = new Option<bool>("--force") { Description = "replace an existing key (pushes signed with the old key stop being accepted once nodes drop it)" };
        var command = new Command("keygen", "make a key pair to sign pushes with (ECDSA P-256)") { output, name, force };
        command.SetAction((parse, _) => run.Invoke(parse, ctx =>
        {
            var path = Path.GetFullPath(parse.GetValue(output) ?? SigningKeys.DefaultPath);
            using var key = SigningKey.Generate();
            try
            {
                key.Save(path, parse.GetValue(force));
            }
            catch (Exception e) when (e is SigningException or IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.Invalid, e.Message);
            }
            var trustName = parse.GetValue(name)!;
            if (ctx.Json)
            {
                ctx.WriteJson(new Generated(key.Public.Id, path, path + ".pub", key.Public.Spki, trustName));
                return Task.FromResult(ExitCodes.Ok);
            }
            ctx.Out.WriteLine($"key {key.Public.Id}");
            ctx.Out.WriteLine($"  private: {path} (mode 0600; keep it to yourself)");
            ctx.Out.WriteLine($"  public:  {path}.pub");
            ctx.Out.WriteLine("trust it on every node, in cluster.hocon:");
            ctx.Out.WriteLine($"  mesh.trusted-keys {{ \"{trustName}\" = \"{key.Public.Spki}\" }}");
            ctx.Out.WriteLine($"or with a flag: mesh-node --trust {trustName}={key.Public.Spki}");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }
}
