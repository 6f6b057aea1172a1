/** `micro bot`: the ops bot (src/bot), loaded only when used. */
export async function botCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { botMain } = await import('../../bot/command.js')
  return botMain(argv, out)
}
