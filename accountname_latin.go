package gatehouse

// latin transliterates the lowercase letters of Latin-1 and Latin Extended-A (the letters of
// European names) to ASCII for the ascii charset of account names. Letters not listed are
// removed: guessing at other scripts would give names nobody recognises.
var latin = func() map[rune]string {
	m := map[rune]string{
		'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th", 'ł': "l",
		'ı': "i", 'ĳ': "ij", 'ŋ': "n", 'ħ': "h", 'ŀ': "l", 'ĸ': "k", 'ſ': "s", 'ŉ': "n",
	}
	groups := map[string]string{
		"a": "àáâãäåāăą",
		"c": "çćĉċč",
		"d": "ď",
		"e": "èéêëēĕėęě",
		"g": "ĝğġģ",
		"h": "ĥ",
		"i": "ìíîïĩīĭį",
		"j": "ĵ",
		"k": "ķ",
		"l": "ĺļľ",
		"n": "ñńņň",
		"o": "òóôõöōŏő",
		"r": "ŕŗř",
		"s": "śŝşš",
		"t": "ţťŧ",
		"u": "ùúûüũūŭůűų",
		"w": "ŵ",
		"y": "ýÿŷ",
		"z": "źżž",
	}
	for ascii, letters := range groups {
		for _, r := range letters {
			m[r] = ascii
		}
	}
	return m
}()
