using System.Collections.Frozen;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// IBAN lengths per country (SWIFT IBAN registry) and the ISO 13616 mod-97 check. Requiring both keeps
/// product codes that happen to start with two letters and two digits from being taken for account numbers.
/// </summary>
internal static class IbanRegistry
{
    public const int MaxLength = 34;

    private static readonly FrozenDictionary<int, byte> Lengths = new Dictionary<int, byte>
    {
        [Key('A', 'D')] = 24, [Key('A', 'E')] = 23, [Key('A', 'L')] = 28, [Key('A', 'T')] = 20, [Key('A', 'Z')] = 28,
        [Key('B', 'A')] = 20, [Key('B', 'E')] = 16, [Key('B', 'G')] = 22, [Key('B', 'H')] = 22, [Key('B', 'I')] = 27,
        [Key('B', 'R')] = 29, [Key('B', 'Y')] = 28, [Key('C', 'H')] = 21, [Key('C', 'R')] = 22, [Key('C', 'Y')] = 28,
        [Key('C', 'Z')] = 24, [Key('D', 'E')] = 22, [Key('D', 'J')] = 27, [Key('D', 'K')] = 18, [Key('D', 'O')] = 28,
        [Key('E', 'E')] = 20, [Key('E', 'G')] = 29, [Key('E', 'S')] = 24, [Key('F', 'I')] = 18, [Key('F', 'K')] = 18,
        [Key('F', 'O')] = 18, [Key('F', 'R')] = 27, [Key('G', 'B')] = 22, [Key('G', 'E')] = 22, [Key('G', 'I')] = 23,
        [Key('G', 'L')] = 18, [Key('G', 'R')] = 27, [Key('G', 'T')] = 28, [Key('H', 'N')] = 28, [Key('H', 'R')] = 21,
        [Key('H', 'U')] = 28, [Key('I', 'E')] = 22, [Key('I', 'L')] = 23, [Key('I', 'Q')] = 23, [Key('I', 'S')] = 26,
        [Key('I', 'T')] = 27, [Key('J', 'O')] = 30, [Key('K', 'W')] = 30, [Key('K', 'Z')] = 20, [Key('L', 'B')] = 28,
        [Key('L', 'C')] = 32, [Key('L', 'I')] = 21, [Key('L', 'T')] = 20, [Key('L', 'U')] = 20, [Key('L', 'V')] = 21,
        [Key('L', 'Y')] = 25, [Key('M', 'C')] = 27, [Key('M', 'D')] = 24, [Key('M', 'E')] = 22, [Key('M', 'K')] = 19,
        [Key('M', 'N')] = 20, [Key('M', 'R')] = 27, [Key('M', 'T')] = 31, [Key('M', 'U')] = 30, [Key('N', 'I')] = 28,
        [Key('N', 'L')] = 18, [Key('N', 'O')] = 15, [Key('O', 'M')] = 23, [Key('P', 'K')] = 24, [Key('P', 'L')] = 28,
        [Key('P', 'S')] = 29, [Key('P', 'T')] = 25, [Key('Q', 'A')] = 29, [Key('R', 'O')] = 24, [Key('R', 'S')] = 22,
        [Key('R', 'U')] = 33, [Key('S', 'A')] = 24, [Key('S', 'C')] = 31, [Key('S', 'D')] = 18, [Key('S', 'E')] = 24,
        [Key('S', 'I')] = 19, [Key('S', 'K')] = 24, [Key('S', 'M')] = 27, [Key('S', 'O')] = 23, [Key('S', 'T')] = 25,
        [Key('S', 'V')] = 28, [Key('T', 'L')] = 23, [Key('T', 'N')] = 24, [Key('T', 'R')] = 26, [Key('U', 'A')] = 29,
        [Key('V', 'A')] = 22, [Key('V', 'G')] = 24, [Key('X', 'K')] = 20, [Key('Y', 'E')] = 30,
    }.ToFrozenDictionary();

    /// <summary>Gets the IBAN length of a country (letters in either case), or 0 when it issues none.</summary>
    public static int Length(byte first, byte second) =>
        Lengths.GetValueOrDefault(Key((char)(first & 0xDF), (char)(second & 0xDF)));

    /// <summary>Checks the mod-97 check digits of an upper-case IBAN without spaces.</summary>
    public static bool HasValidChecksum(ReadOnlySpan<byte> iban)
    {
        if (iban.Length < 5)
        {
            return false;
        }

        var remainder = 0;
        for (var i = 0; i < iban.Length; i++)
        {
            // The country code and check digits move to the end.
            var b = iban[(i + 4) % iban.Length];
            if (b is >= (byte)'0' and <= (byte)'9')
            {
                remainder = ((remainder * 10) + (b - '0')) % 97;
            }
            else if (b is >= (byte)'A' and <= (byte)'Z')
            {
                remainder = ((remainder * 100) + (b - 'A' + 10)) % 97;
            }
            else
            {
                return false;
            }
        }

        return remainder == 1;
    }

    private static int Key(char first, char second) => (first << 8) | second;
}
