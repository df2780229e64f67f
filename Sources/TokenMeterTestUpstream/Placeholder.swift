import NIOCore
import NIOPosix
import NIOHTTP1
enum Placeholder {}
