using System.Text;
using Mesh.Protocol.Manifests;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Mesh.Protocol.Secrets;

/// <summary>
/// Rewrites the <c>!secret</c> values of a manifest's text into <c>!sealed</c> envelopes, for
/// the nodes the manifest targets, before the text leaves the pusher's machine. Only the
/// secrets' own spans change: every other byte of the file stays as written (comments, order,
/// quoting), and a secret that spans several lines becomes an envelope over as many lines, so a
/// node's errors still name the lines of the file as the user wrote it.
/// </summary>
public static class SecretSealer
{
    /// <summary>
    /// Whether the text may hold a <c>!secret</c>, by its characters alone, so that a file YAML
    /// cannot even read is still never sent with one. (A tag can also be spelt through a
    /// <c>%TAG</c> directive or verbatim, <c>!&lt;...&gt;</c>: those texts are looked at closely too.)
    /// </summary>
    public static bool MayHoldSecrets(string text) =>
        text.Contains(SecretPlacement.SecretTag, StringComparison.Ordinal)
        || text.Contains("%TAG", StringComparison.Ordinal)
        || text.Contains("!<", StringComparison.Ordinal);

    /// <summary>
    /// Seals every <c>!secret</c> value of one manifest for the public keys
    /// <paramref name="recipientsOf"/> names for it (it sees the parsed manifest: name and target).
    /// </summary>
    /// <exception cref="ManifestException">the manifest does not parse, or a secret stands where none may</exception>
    public static SealedText Seal(string text, string source, Func<Manifest, IReadOnlyCollection<byte[]>> recipientsOf)
    {
        var found = Find(text, source);
        return Seal(found, found.Count == 0 ? [] : recipientsOf(found.Manifest!));
    }

    /// <summary>
    /// Parses a text that may hold secrets and finds them, so that a caller with several files
    /// can learn which manifests (name, target) need keys before it asks anyone for them.
    /// </summary>
    /// <exception cref="ManifestException">the manifest does not parse, or a secret stands where none may</exception>
    public static SecretsToSeal Find(string text, string source)
    {
        if (!MayHoldSecrets(text)) return new SecretsToSeal(text, null, []);
        // Sources are not resolved here: the node does that with the files the push carries.
        var manifest = ManifestParser.Parse(text, source, _ => new string('0', 64), plaintextSecrets: true);
        return new SecretsToSeal(text, manifest, PlaintextSecrets(text));
    }

    /// <summary>Seals the secrets <see cref="Find"/> found for <paramref name="recipients"/> (unused when there are none).</summary>
    public static SealedText Seal(SecretsToSeal found, IReadOnlyCollection<byte[]> recipients)
    {
        var (text, manifest, secrets) = (found.Text, found.Manifest, found.Secrets);
        if (secrets.Count == 0) return new SealedText(text, manifest, 0);

        var result = new StringBuilder(text.Length + secrets.Count * 256);
        var at = 0;
        foreach (var secret in secrets)
        {
            var (start, end) = ((int)secret.Start.Index, (int)secret.End.Index);
            result.Append(text, at, start - at);
            var envelope = SecretBox.Seal(Encoding.UTF8.GetBytes(secret.Value), recipients, manifest!.Name);
            result.Append(Replacement(text[start..end], secret, envelope));
            at = end;
        }
        result.Append(text, at, text.Length - at);
        return new SealedText(result.ToString(), manifest, secrets.Count);
    }

    /// <summary>The <c>!secret</c> scalars of a text that parsed, in order.</summary>
    private static List<Scalar> PlaintextSecrets(string text)
    {
        var found = new List<Scalar>();
        var parser = new Parser(new Scanner(new StringReader(text)));
        while (parser.MoveNext())
            if (parser.Current is Scalar { Tag.IsEmpty: false } s && s.Tag.Value == SecretPlacement.SecretTag) found.Add(s);
        return found;
    }

    /// <summary>
    /// The sealed node in place of <paramref name="span"/> (the scalar with its anchor and tag):
    /// the same anchor, the envelope double-quoted, and as many line breaks as the span had.
    /// </summary>
    private static string Replacement(string span, Scalar secret, string envelope)
    {
        var head = (secret.Anchor.IsEmpty ? "" : $"&{secret.Anchor.Value} ") + SecretPlacement.SealedTag + " \"";
        var lines = span.Split('\n');
        var breaks = lines.Length - 1;
        if (breaks == 0) return head + envelope + "\"";

        // A block scalar ends at the start of the next line: its last line break stays after the quote.
        var trailingBreak = lines[^1].Length == 0;
        var parts = trailingBreak ? breaks : breaks + 1;
        if (envelope.Length < parts) return head + envelope + "\"" + (trailingBreak ? "\n" : "");

        // Escaped line breaks ("\" at the end of a line) join the parts without adding a character;
        // the continuation lines are indented as far as the scalar began, deeper than its parent.
        var indent = new string(' ', Math.Max(1, (int)secret.Start.Column - 1));
        var result = new StringBuilder(head);
        var size = envelope.Length / parts;
        for (var i = 0; i < parts; i++)
        {
            if (i > 0) result.Append("\\\n").Append(indent);
            result.Append(envelope, i * size, i == parts - 1 ? envelope.Length - i * size : size);
        }
        result.Append('"');
        if (trailingBreak) result.Append('\n');
        return result.ToString();
    }
}

/// <summary>
/// A manifest's text read for sealing: the manifest it parses to (null when the text could hold
/// no secret) and its <c>!secret</c> scalars, in order.
/// </summary>
public sealed class SecretsToSeal
{
    internal SecretsToSeal(string text, Manifest? manifest, IReadOnlyList<Scalar> secrets) => (Text, Manifest, Secrets) = (text, manifest, secrets);

    public string Text { get; }
    public Manifest? Manifest { get; }
    internal IReadOnlyList<Scalar> Secrets { get; }

    /// <summary>How many secrets there are to seal: with none, no keys are needed.</summary>
    public int Count => Secrets.Count;
}

/// <summary>A manifest's text with its secrets sealed; <see cref="Manifest"/> is null when the text could hold none.</summary>
public sealed record SealedText(string Text, Manifest? Manifest, int Sealed);
