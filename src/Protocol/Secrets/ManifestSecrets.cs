using System.Text;
using System.Text.Json.Nodes;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Protocol.Secrets;

/// <summary>
/// Opens the sealed values of a manifest on the node that applies it, just before the apply,
/// and keeps what comes of the apply from repeating them. The opened manifest lives only for
/// that one run: what a node stores, enforces and shares is the sealed one.
/// </summary>
public static class ManifestSecrets
{
    /// <summary>
    /// The manifest with every envelope replaced by its plaintext, validated again as plain
    /// values (a secret that turns out to hold, say, a NUL byte where none may stand is refused here).
    /// </summary>
    /// <param name="open">opens one envelope for this node (see <see cref="SecretBox.Open"/>)</param>
    /// <param name="node">this node's name, for the messages</param>
    /// <exception cref="SecretException">an envelope cannot be opened here, or what it holds is not valid where it stands</exception>
    public static OpenedManifest Open(Manifest manifest, Func<string, byte[]> open, string node)
    {
        if (!manifest.HasSealedValues) return new OpenedManifest(manifest, new HashSet<string>(), SecretRedactor.None);

        var json = JsonNode.Parse(CanonicalForm.ToBytes(manifest))!.AsObject();
        var plaintexts = new List<string>();
        var opener = new Opener(open, node, plaintexts);
        var varsSealed = opener.OpenAll(json["vars"], "vars");
        var secretResources = new HashSet<string>(StringComparer.Ordinal);
        var resources = json["resources"]!.AsArray();
        for (var i = 0; i < resources.Count; i++)
        {
            var resource = resources[i]!.AsObject();
            var id = (string)resource["id"]!;
            // A template sees every variable, so with a secret among them it may render any of them.
            if (opener.OpenAll(resource, $"resources[{i}] ({id})") || varsSealed && resource["template"] is not null)
                secretResources.Add(id);
        }

        Manifest opened;
        try
        {
            opened = ManifestParser.Parse(json.ToJsonString(), $"{manifest.Name} (secrets opened)");
        }
        catch (ManifestException e)
        {
            // Only the fields: a message could quote the value.
            throw new SecretException(SecretFailure.Invalid,
                $"once opened, a secret is not valid where it stands: {string.Join(", ", e.Errors.Select(x => x.Field).Distinct())}");
        }
        return new OpenedManifest(opened, secretResources, new SecretRedactor(plaintexts));
    }

    private sealed class Opener(Func<string, byte[]> open, string node, List<string> plaintexts)
    {
        /// <summary>Opens every envelope under <paramref name="node"/> in place; true when there was one.</summary>
        public bool OpenAll(JsonNode? json, string field)
        {
            switch (json)
            {
                case JsonObject o:
                    var any = false;
                    foreach (var key in o.Select(p => p.Key).ToArray())
                    {
                        if (o[key] is JsonValue v && Envelope(v) is { } envelope)
                        {
                            o[key] = Plaintext(envelope, $"{field}.{key}");
                            any = true;
                        }
                        else any |= OpenAll(o[key], $"{field}.{key}");
                    }
                    return any;
                case JsonArray a:
                    var found = false;
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (a[i] is JsonValue v && Envelope(v) is { } envelope)
                        {
                            a[i] = Plaintext(envelope, $"{field}[{i}]");
                            found = true;
                        }
                        else found |= OpenAll(a[i], $"{field}[{i}]");
                    }
                    return found;
                default:
                    return false;
            }
        }

        private static string? Envelope(JsonValue value) =>
            value.TryGetValue<string>(out var text) && SecretBox.IsEnvelope(text) ? text : null;

        private JsonValue Plaintext(string envelope, string field)
        {
            string text;
            try
            {
                text = Encoding.UTF8.GetString(open(envelope));
            }
            catch (SecretException e)
            {
                throw new SecretException(e.Failure, e.Failure == SecretFailure.NotARecipient
                    ? $"secret {field} is not sealed for node {node}: {e.Message}; it was sealed before this node was targeted or changed its key: push the manifest again"
                    : $"secret {field} cannot be opened on node {node}: {e.Message}");
            }
            plaintexts.Add(text);
            return JsonValue.Create(text);
        }
    }
}

/// <summary>
/// A manifest with its secrets opened, for one run; <see cref="Redact"/> makes that run's
/// results fit to leave the engine: <see cref="SecretResources"/> (resources that used a
/// secret) lose their detail (a diff, a command's output), and every text loses the secrets.
/// </summary>
public sealed record OpenedManifest(Manifest Manifest, IReadOnlySet<string> SecretResources, SecretRedactor Redactor)
{
    public const string Withheld = "[detail withheld: this resource uses a secret]";

    public IReadOnlyList<ResourceResult> Redact(IReadOnlyList<ResourceResult> results) =>
        SecretResources.Count == 0 && Redactor.IsEmpty
            ? results
            : results.Select(r => r with
            {
                Message = Redactor.Redact(r.Message),
                Detail = r.Detail is null ? null : SecretResources.Contains(r.Id) ? Withheld : Redactor.Redact(r.Detail),
            }).ToArray();
}

/// <summary>
/// Takes secrets out of text. A secret of <see cref="Gram"/> characters or more is found by any
/// run of that many of its characters, so a secret cut short (a command shown up to its first
/// line, a message shortened) or only partly echoed is caught too; a shorter one is found whole.
/// </summary>
public sealed class SecretRedactor
{
    public const string Marker = "[secret]";
    public const int Gram = 8;

    public static readonly SecretRedactor None = new([]);

    private readonly string[] _whole;
    private readonly HashSet<string> _grams = new(StringComparer.Ordinal);

    public SecretRedactor(IEnumerable<string> secrets)
    {
        var whole = new List<string>();
        foreach (var secret in secrets.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal))
        {
            if (secret.Length < Gram)
            {
                whole.Add(secret);
                continue;
            }
            for (var i = 0; i + Gram <= secret.Length; i++)
            {
                var gram = secret.Substring(i, Gram);
                // Runs of blanks are everywhere: they identify nothing.
                if (!string.IsNullOrWhiteSpace(gram)) _grams.Add(gram);
            }
        }
        _whole = whole.ToArray();
    }

    public bool IsEmpty => _whole.Length == 0 && _grams.Count == 0;

    public string? Redact(string? text)
    {
        if (text is null || IsEmpty) return text;
        var covered = new bool[text.Length];
        var any = false;
        foreach (var secret in _whole)
            for (var at = text.IndexOf(secret, StringComparison.Ordinal); at >= 0; at = text.IndexOf(secret, at + 1, StringComparison.Ordinal))
            {
                Array.Fill(covered, true, at, secret.Length);
                any = true;
            }
        if (_grams.Count > 0)
        {
            var lookup = _grams.GetAlternateLookup<ReadOnlySpan<char>>();
            for (var i = 0; i + Gram <= text.Length; i++)
                if (lookup.Contains(text.AsSpan(i, Gram)))
                {
                    Array.Fill(covered, true, i, Gram);
                    any = true;
                }
        }
        if (!any) return text;

        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (!covered[i]) result.Append(text[i]);
            else if (i == 0 || !covered[i - 1]) result.Append(Marker);
        }
        return result.ToString();
    }
}
