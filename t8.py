import sys; sys.argv=['x']
from common import *
import decimal, numpy as np
t = torch.zeros(0,3,dtype=torch.int32)
try: uit.trunc_normal_(t, mean=decimal.Decimal("1.5"), std=np.float64("nan"), a=np.float32(2), b=-float("inf"))
except Exception as e: print(type(e), type(e).__mro__, e)
try: torch.nn.init.trunc_normal_(t, mean=decimal.Decimal("1.5"), std=np.float64("nan"), a=np.float32(2), b=-float("inf"))
except Exception as e: print(type(e), e)
t = torch.zeros(4,3,dtype=torch.int32)
try: uit.trunc_normal_(t)
except Exception as e: print(type(e), type(e).__mro__[:4], e)
